/**
 * The one hosts(5) parser, shared by the hosts and etcdhosts plugins and the `etcdns hosts` CLI.
 *
 * A line is `IP NAME [NAME...]`, optionally followed by a `#` comment. Serving uses it
 * leniently (bad lines are skipped and reported, the rest is served); the CLI uses it strictly
 * (any bad line refuses the whole file, every bad line reported with its number).
 */
import { inZone } from "../dns/message.ts";
import { type ParsedIp, parseIp } from "./ip.ts";

/** One usable line of a hosts file. */
export interface HostsRecord {
  /** 1-based line number in the parsed text. */
  line: number;
  ip: ParsedIp;
  /** Lowercased fully qualified names, in line order, only those inside the zones. */
  names: string[];
}

/** A line that was not usable, and why. */
export interface HostsProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/** What parsing a text gives. */
export interface HostsParse {
  records: HostsRecord[];
  problems: HostsProblem[];
  /**
   * Lines holding a valid entry (`IP NAME...`), whether or not their names are inside the
   * zones. 0 means the text has no usable line: it is empty, blank, comments only, or bad.
   */
  entryLines: number;
}

/** Parse options. */
export interface HostsParseOptions {
  /**
   * Zones (lowercased FQDNs) whose names are kept; names outside are dropped silently, as
   * CoreDNS drops them. Omitted or containing "." keeps every name.
   */
  zones?: readonly string[];
}

/** Thrown by strict parsing: every bad line, with its number. */
export class HostsSyntaxError extends Error {
  constructor(readonly source: string, readonly problems: readonly HostsProblem[]) {
    super(formatProblems(source, problems));
    this.name = "HostsSyntaxError";
  }
}

/** Formats problems one per line as `SOURCE:LINE: reason`. */
export function formatProblems(source: string, problems: readonly HostsProblem[]): string {
  return problems.map((p) => `${source}:${p.line}: ${p.reason}`).join("\n");
}

/**
 * Parses hosts text leniently: good lines become records, bad lines become problems and are
 * skipped. Never throws.
 */
export function parseHosts(text: string, options: HostsParseOptions = {}): HostsParse {
  const zones = options.zones && !options.zones.includes(".") ? options.zones : null;
  const records: HostsRecord[] = [];
  const problems: HostsProblem[] = [];
  let entryLines = 0;
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  // A leading BOM is an editor artefact, not content.
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos <= len) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = len;
    lineNo++;
    const raw = text.slice(pos, end);
    pos = end + 1;
    if (raw.length === 0) continue;
    // Garbage is refused wherever it stands, comments included: such a text is no hosts file.
    if (hasBinary(raw)) {
      problems.push({ line: lineNo, reason: "binary data (control characters or invalid UTF-8)" });
      continue;
    }
    const hash = raw.indexOf("#");
    const fields = splitFields(hash >= 0 ? raw.slice(0, hash) : raw);
    if (fields.length === 0) continue;
    const ip = parseIp(fields[0]);
    if (ip === null) {
      const shown = fields[0].length > 60 ? fields[0].slice(0, 60) + "..." : fields[0];
      problems.push({ line: lineNo, reason: `'${shown}' is not an IPv4 or IPv6 address` });
      continue;
    }
    if (fields.length === 1) {
      problems.push({ line: lineNo, reason: `address ${fields[0]} has no host name` });
      continue;
    }
    const names: string[] = [];
    let bad: string | null = null;
    for (let i = 1; i < fields.length; i++) {
      const why = checkName(fields[i]);
      if (why !== null) {
        bad = `'${fields[i]}' is not a valid host name: ${why}`;
        break;
      }
      const name = toFqdn(fields[i]);
      if (zones !== null && !inAnyZone(name, zones)) continue;
      names.push(name);
    }
    if (bad !== null) {
      problems.push({ line: lineNo, reason: bad });
      continue;
    }
    entryLines++;
    if (names.length > 0) records.push({ line: lineNo, ip, names });
  }
  return { records, problems, entryLines };
}

/** Parses hosts text strictly: throws a HostsSyntaxError listing every bad line. */
export function parseHostsStrict(
  text: string,
  source: string,
  options: HostsParseOptions = {},
): HostsRecord[] {
  const { records, problems } = parseHosts(text, options);
  if (problems.length > 0) throw new HostsSyntaxError(source, problems);
  return records;
}

/** Whether a line holds control characters (other than blanks) or U+FFFD (invalid UTF-8). */
function hasBinary(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 32) {
      if (c !== 9 && c !== 13 && c !== 11 && c !== 12) return true;
    } else if (c === 127 || c === 0xfffd) {
      return true;
    }
  }
  return false;
}

/** Splits a line on blanks (space, tab, CR, VT, FF). */
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
      if (start >= 0) {
        fields.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) fields.push(line.slice(start));
  return fields;
}

/**
 * Why `name` is not a usable host name, or null when it is. A wildcard `*` is allowed as the
 * whole first label (`*.apps.example.org`), as CoreDNS's hosts plugin answers such lines.
 */
export function checkName(name: string): string | null {
  let n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (n.length === 0) return "empty name";
  if (n.startsWith("*.") && n.length > 2) n = n.slice(2);
  else if (n === "*") return "a wildcard needs a domain after it (*.example.org)";
  if (n.length > 253) return "longer than 253 characters";
  let labelLen = 0;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c === 46) {
      if (labelLen === 0) return "empty label";
      labelLen = 0;
      continue;
    }
    labelLen++;
    if (labelLen > 63) return "a label is longer than 63 characters";
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) ||
      c === 45 || c === 95;
    if (!ok) {
      return c > 127
        ? "non-ASCII characters (write internationalised names in punycode, xn--...)"
        : `character '${n[i]}' is not allowed (letters, digits, '-', '_' and '.')`;
    }
  }
  if (labelLen === 0) return "empty label";
  return null;
}

function toFqdn(name: string): string {
  let n = name;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      n = n.toLowerCase();
      break;
    }
  }
  return n.endsWith(".") ? n : n + ".";
}

function inAnyZone(name: string, zones: readonly string[]): boolean {
  for (const z of zones) if (inZone(name, z)) return true;
  return false;
}
