/**
 * IP address literals as hosts(5) files write them: parsing to a canonical text form (the form
 * Go's net.IP.String() gives, so answers and reverse lookups match CoreDNS), and reverse names.
 *
 * Hand-written rather than through node:net because a 100,000-line hosts file must load fast
 * and we need the family decision CoreDNS makes (an IPv4-mapped IPv6 address is IPv4).
 */
import { ipv6GroupsText } from "../net/ipv6_text.ts";

/** A parsed address: its family as answered (4 for A, 6 for AAAA) and its canonical text. */
export interface ParsedIp {
  family: 4 | 6;
  /** Canonical text: dotted quad for IPv4 (also for IPv4-mapped IPv6), RFC 5952 for IPv6. */
  text: string;
}

/**
 * Parses an IPv4 or IPv6 literal. An IPv6 zone suffix (`%eth0`) is stripped, as CoreDNS does.
 * Returns null for anything else (including IPv4 octets with leading zeros, which are
 * ambiguous: some resolvers read them as octal).
 */
export function parseIp(literal: string): ParsedIp | null {
  const pct = literal.indexOf("%");
  const s = pct >= 0 ? literal.slice(0, pct) : literal;
  if (s.length === 0) return null;
  if (s.indexOf(":") < 0) {
    const v4 = parseV4(s, 0, s.length);
    return v4 === null ? null : { family: 4, text: s };
  }
  if (pct === 0) return null;
  const groups = parseV6(s);
  if (groups === null) return null;
  // IPv4-mapped (::ffff:a.b.c.d) answers A, as Go's To4() and so CoreDNS decide.
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 &&
    groups[4] === 0 && groups[5] === 0xffff
  ) {
    const hi = groups[6];
    const lo = groups[7];
    return { family: 4, text: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}` };
  }
  return { family: 6, text: ipv6GroupsText(groups) };
}

/** Parses a dotted quad in s[from, to) into a 32-bit number, or null. */
function parseV4(s: string, from: number, to: number): number | null {
  let value = 0;
  let octets = 0;
  let i = from;
  while (i <= to) {
    let n = 0;
    let digits = 0;
    const start = i;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || n > 255) return null;
    if (digits > 1 && s.charCodeAt(start) === 48) return null;
    value = value * 256 + n;
    octets++;
    if (i === to) break;
    if (s.charCodeAt(i) !== 46 || octets === 4) return null;
    i++;
  }
  return octets === 4 ? value : null;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses an IPv6 literal (without zone) into 8 groups, or null. */
function parseV6(s: string): number[] | null {
  const groups: number[] = [];
  let gap = -1; // index in groups where "::" stands
  let i = 0;
  const n = s.length;
  if (s.startsWith("::")) {
    gap = 0;
    i = 2;
    if (i === n) return expand(groups, gap);
  } else if (s.charCodeAt(0) === 58) {
    return null;
  }
  while (i < n) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) takes the last two groups.
    let j = i;
    let v = 0;
    let digits = 0;
    while (j < n) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      digits++;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      const v4 = parseV4(s, i, n);
      if (v4 === null || groups.length > 6) return null;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = n;
      break;
    }
    if (digits === 0 || digits > 4) return null;
    groups.push(v);
    if (groups.length > 8) return null;
    i = j;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return null;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = groups.length;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return null; // a trailing single colon
    }
  }
  return expand(groups, gap);
}

function expand(groups: number[], gap: number): number[] | null {
  if (gap < 0) return groups.length === 8 ? groups : null;
  if (groups.length > 7) return null;
  const zeros = new Array<number>(8 - groups.length).fill(0);
  return [...groups.slice(0, gap), ...zeros, ...groups.slice(gap)];
}

const HEX = "0123456789abcdef";

/** The reverse lookup name of a canonical address, e.g. "1.0.0.10.in-addr.arpa.". */
export function reverseName(ip: ParsedIp): string {
  if (ip.family === 4) {
    const t = ip.text;
    const a = t.indexOf(".");
    const b = t.indexOf(".", a + 1);
    const c = t.indexOf(".", b + 1);
    return `${t.slice(c + 1)}.${t.slice(b + 1, c)}.${t.slice(a + 1, b)}.${
      t.slice(0, a)
    }.in-addr.arpa.`;
  }
  const groups = parseV6(ip.text)!;
  const nibbles: string[] = [];
  for (let i = 7; i >= 0; i--) {
    const v = groups[i];
    nibbles.push(HEX[v & 15], HEX[(v >> 4) & 15], HEX[(v >> 8) & 15], HEX[(v >> 12) & 15]);
  }
  return nibbles.join(".") + ".ip6.arpa.";
}

/**
 * The ip6.arpa name of an IPv4 address in its IPv4-mapped form (`::ffff:a.b.c.d`), e.g.
 * "1.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.". CoreDNS answers
 * PTR for this name for every IPv4 entry (Go reads the mapped address back as the IPv4 one).
 */
export function mappedReverseName(ip: ParsedIp): string {
  const o = ip.text.split(".").map(Number);
  const nibbles: string[] = [];
  for (let i = 3; i >= 0; i--) nibbles.push(HEX[o[i] & 15], HEX[o[i] >> 4]);
  return nibbles.join(".") + ".f.f.f.f" + ".0".repeat(20) + ".ip6.arpa.";
}
