/**
 * A small path glob for `import`: `*`, `?` and `[...]` within one path segment, `\` escapes the
 * next character. Matches are sorted per directory, as Go's filepath.Glob returns them.
 */
import { isAbsolute, join, sep } from "node:path";

type Item =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "char"; char: string }
  | { kind: "class"; negate: boolean; ranges: [string, string][] };

/** A glob pattern that cannot be read, e.g. an unclosed `[`. */
export class GlobError extends Error {}

/** Whether `pattern` holds glob metacharacters, so that no match is a warning, not an error. */
export function hasGlobMeta(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function compile(pattern: string): Item[] {
  const chars = Array.from(pattern);
  const items: Item[] = [];
  let i = 0;
  const escaped = (): string => {
    if (chars[i] !== "\\") return chars[i++];
    if (i + 1 >= chars.length) throw new GlobError(`'${pattern}' ends with a lone '\\'`);
    i += 2;
    return chars[i - 1];
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === "*") {
      if (items.at(-1)?.kind !== "star") items.push({ kind: "star" });
      i++;
    } else if (c === "?") {
      items.push({ kind: "any" });
      i++;
    } else if (c === "[") {
      i++;
      const negate = chars[i] === "!" || chars[i] === "^";
      if (negate) i++;
      const ranges: [string, string][] = [];
      while (i < chars.length && chars[i] !== "]") {
        const lo = escaped();
        let hi = lo;
        if (chars[i] === "-" && i + 1 < chars.length && chars[i + 1] !== "]") {
          i++;
          hi = escaped();
        }
        ranges.push([lo, hi]);
      }
      if (i >= chars.length || ranges.length === 0) {
        throw new GlobError(`'${pattern}' has an unclosed or empty '[...]'`);
      }
      i++;
      items.push({ kind: "class", negate, ranges });
    } else {
      items.push({ kind: "char", char: escaped() });
    }
  }
  return items;
}

function matchOne(item: Item, c: string): boolean {
  switch (item.kind) {
    case "any":
      return true;
    case "char":
      return item.char === c;
    case "class":
      return item.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== item.negate;
    case "star":
      return false;
  }
}

/** Whether `name` (one path segment) matches the glob `pattern`. Throws GlobError if malformed. */
export function matchSegment(pattern: string, name: string): boolean {
  return matches(compile(pattern), name);
}

function matches(items: Item[], name: string): boolean {
  const chars = Array.from(name);
  // Linear-time wildcard matching: on a mismatch, let the last `*` swallow one more character.
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < chars.length) {
    if (p < items.length && items[p].kind === "star") {
      starP = p++;
      starN = n;
    } else if (p < items.length && matchOne(items[p], chars[n])) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (p < items.length && items[p].kind === "star") p++;
  return p === items.length;
}

/** Whether `path` exists (Deno's own call: node:fs would load Node's file system layer). */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The existing paths that `pattern` matches, segment by segment. Throws GlobError if malformed. */
export function expandGlob(pattern: string): string[] {
  let current = [isAbsolute(pattern) ? sep : ""];
  for (const segment of pattern.split(sep)) {
    if (segment === "") continue;
    if (!hasGlobMeta(segment)) {
      current = current.map((dir) => join(dir, segment));
      continue;
    }
    // Compiled before listing, so a malformed pattern is reported even with nothing to list.
    const items = compile(segment);
    const next: string[] = [];
    for (const dir of current) {
      let names: string[];
      try {
        names = [...Deno.readDirSync(dir || ".")].map((e) => e.name).sort();
      } catch {
        continue; // not a directory, or unreadable: it matches nothing, as in Go
      }
      for (const name of names) {
        if (matches(items, name)) next.push(join(dir, name));
      }
    }
    current = next;
  }
  return current.filter((path) => path !== "" && pathExists(path));
}
