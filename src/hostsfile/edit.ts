/**
 * The hosts(5) serialiser and the line edits of `etcdns hosts add/del/purge`. Edits change only
 * the lines they must, so comments, order and spacing of everything else survive.
 */
import { parseIp } from "./ip.ts";
import { checkName } from "./parse.ts";

/** Formats one hosts line: `IP<TAB>NAME NAME...`. */
export function formatHostsLine(ip: string, names: readonly string[]): string {
  return `${ip}\t${names.join(" ")}`;
}

/** The result of an edit: the new text and how many names were added or removed. */
export interface EditResult {
  text: string;
  changed: number;
}

/** A line split into its address, names and trailing comment, as written. */
interface SplitLine {
  ip: string;
  names: string[];
  comment: string;
  cr: boolean;
}

function splitLine(raw: string): SplitLine | null {
  const cr = raw.endsWith("\r");
  const body = cr ? raw.slice(0, -1) : raw;
  const hash = body.indexOf("#");
  const content = hash >= 0 ? body.slice(0, hash) : body;
  const comment = hash >= 0 ? body.slice(hash) : "";
  const fields = content.split(/[ \t]+/).filter((f) => f.length > 0);
  if (fields.length < 2) return null;
  return { ip: fields[0], names: fields.slice(1), comment, cr };
}

function joinLine(l: SplitLine): string {
  const base = formatHostsLine(l.ip, l.names);
  return base + (l.comment ? " " + l.comment : "") + (l.cr ? "\r" : "");
}

/** Lowercase, no trailing dot: how names compare. */
function key(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
}

function canonicalIp(text: string): string | null {
  return parseIp(text)?.text ?? null;
}

/** Checks the arguments of add/del: a valid address and valid names. Throws with the reason. */
export function checkEntryArgs(ip: string, names: readonly string[]): void {
  if (canonicalIp(ip) === null) throw new Error(`'${ip}' is not an IPv4 or IPv6 address`);
  if (names.length === 0) throw new Error("give at least one host name");
  for (const n of names) {
    const why = checkName(n);
    if (why !== null) throw new Error(`'${n}' is not a valid host name: ${why}`);
  }
}

/**
 * Adds `names` for `ip`: appended to the first line of the same address, or as a new line at
 * the end. Names the address already has are skipped.
 */
export function addEntry(text: string, ip: string, names: readonly string[]): EditResult {
  checkEntryArgs(ip, names);
  const want = canonicalIp(ip)!;
  const lines = text.split("\n");
  const have = new Set<string>();
  let first = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = splitLine(lines[i]);
    if (l === null || canonicalIp(l.ip) !== want) continue;
    if (first < 0) first = i;
    for (const n of l.names) have.add(key(n));
  }
  const fresh: string[] = [];
  for (const n of names) {
    if (!have.has(key(n))) {
      have.add(key(n));
      fresh.push(n);
    }
  }
  if (fresh.length === 0) return { text, changed: 0 };
  if (first >= 0) {
    const l = splitLine(lines[first])!;
    l.names.push(...fresh);
    lines[first] = joinLine(l);
    return { text: lines.join("\n"), changed: fresh.length };
  }
  const sep = text.length === 0 || text.endsWith("\n") ? "" : "\n";
  return { text: text + sep + formatHostsLine(ip, fresh) + "\n", changed: fresh.length };
}

/**
 * Removes names from lines; `match(ip)` picks the lines (by canonical address) and `drop(name)`
 * the names. A line left without names is removed with its comment.
 */
function removeNames(
  text: string,
  match: (ip: string) => boolean,
  drop: (name: string) => boolean,
): EditResult {
  const lines = text.split("\n");
  const out: string[] = [];
  let changed = 0;
  for (const raw of lines) {
    const l = splitLine(raw);
    const ip = l === null ? null : canonicalIp(l.ip);
    if (l === null || ip === null || !match(ip)) {
      out.push(raw);
      continue;
    }
    const kept = l.names.filter((n) => !drop(key(n)));
    if (kept.length === l.names.length) {
      out.push(raw);
      continue;
    }
    changed += l.names.length - kept.length;
    if (kept.length > 0) out.push(joinLine({ ...l, names: kept }));
  }
  return { text: out.join("\n"), changed };
}

/** Removes `name` from the lines of address `ip`. */
export function deleteEntry(text: string, ip: string, name: string): EditResult {
  checkEntryArgs(ip, [name]);
  const want = canonicalIp(ip)!;
  const k = key(name);
  return removeNames(text, (a) => a === want, (n) => n === k);
}

/** Removes `name` from every line, whatever its address. */
export function purgeName(text: string, name: string): EditResult {
  const why = checkName(name);
  if (why !== null) throw new Error(`'${name}' is not a valid host name: ${why}`);
  const k = key(name);
  return removeNames(text, () => true, (n) => n === k);
}
