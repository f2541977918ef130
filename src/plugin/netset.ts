/**
 * Source-address matching for acl and ratelimit: networks (CIDRs and plain IPs, IPv4 and IPv6)
 * compiled once at setup into masked words, so a query costs one address parse and a few integer
 * compares. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is matched as the IPv4 address.
 */

/** A parsed address: an IPv4 address as an unsigned 32-bit number, or IPv6 as four words. */
export type Address = number | Uint32Array;

/** Parses dotted-quad IPv4; returns -1 when `s` is not one. No allocation. */
export function parseIPv4(s: string): number {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits > 0 && octet === 0)) return -1; // too long, or a leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + octet;
}

/** Scratch space for parseIPv6's groups (parsing is synchronous, so one buffer serves all). */
const groups = new Uint16Array(8);

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 (with `::`, an embedded IPv4 tail, and an ignored `%zone`); null when invalid.
 * One pass over the characters; the words go to `out` when given (no allocation), else to a new
 * array.
 */
export function parseIPv6(s: string, out?: Uint32Array): Uint32Array | null {
  const pct = s.indexOf("%");
  const len = pct >= 0 ? pct : s.length;
  let i = 0;
  let n = 0;
  let gap = -1;
  if (len >= 2 && s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    const start = i;
    let v = 0;
    let digits = 0;
    for (; i < len; i++) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      if (++digits > 4) return null;
      v = v * 16 + h;
    }
    if (i < len && s.charCodeAt(i) === 46) { // an IPv4 tail: the last 32 bits
      if (n > 6) return null;
      const v4 = parseIPv4(s.slice(start, len));
      if (v4 < 0) return null;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = len;
      break;
    }
    if (digits === 0 || n === 8) return null;
    groups[n++] = v;
    if (i === len) break;
    if (s.charCodeAt(i) !== 58) return null;
    i++;
    if (i < len && s.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = n;
      i++;
    } else if (i === len) {
      return null; // a single trailing colon
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return null;
  const words = out ?? new Uint32Array(4);
  const shift = 8 - n; // zero groups the gap stands for
  for (let g = 0; g < 8; g++) {
    let value = 0;
    if (gap < 0 || g < gap) value = groups[g];
    else if (g >= gap + shift) value = groups[g - shift];
    if (g % 2 === 0) words[g >> 1] = value << 16 >>> 0;
    else words[g >> 1] = (words[g >> 1] | value) >>> 0;
  }
  return words;
}

/** Where `parseAddress(s, true)` puts an IPv6 address. */
const scratch = new Uint32Array(4);

/**
 * Parses a client address; an IPv4-mapped IPv6 address becomes IPv4. Null when invalid. With
 * `transient`, an IPv6 result is a shared buffer, valid only until the next such call (the hot
 * path: a query's source is parsed, matched and forgotten, with no allocation).
 */
export function parseAddress(s: string, transient = false): Address | null {
  const v4 = parseIPv4(s);
  if (v4 >= 0) return v4;
  const v6 = parseIPv6(s, transient ? scratch : undefined);
  if (v6 === null) return null;
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) return v6[3];
  return v6;
}

/** The mask of the first `bits` bits of a 32-bit word (bits clamped to 0..32). */
export function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** One network: masked words and their masks (one word for IPv4, four for IPv6). */
interface Net {
  readonly words: Uint32Array;
  readonly masks: Uint32Array;
}

/** Parses `a.b.c.d[/n]` or `v6[/n]` into a network; a plain IP is a /32 or /128. Null if bad. */
function parseNet(text: string): { v4: boolean; net: Net } | null {
  const slash = text.indexOf("/");
  const ip = slash >= 0 ? text.slice(0, slash) : text;
  const bitsText = slash >= 0 ? text.slice(slash + 1) : null;
  if (bitsText !== null && !/^\d{1,3}$/.test(bitsText)) return null;
  const v4 = parseIPv4(ip);
  if (v4 >= 0) {
    const bits = bitsText === null ? 32 : Number(bitsText);
    if (bits > 32) return null;
    const masks = Uint32Array.of(wordMask(bits));
    return { v4: true, net: { words: Uint32Array.of((v4 & masks[0]) >>> 0), masks } };
  }
  const v6 = parseIPv6(ip);
  if (v6 === null || ip.includes("%")) return null;
  const bits = bitsText === null ? 128 : Number(bitsText);
  if (bits > 128) return null;
  const masks = new Uint32Array(4);
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    masks[i] = wordMask(bits - 32 * i);
    words[i] = (v6[i] & masks[i]) >>> 0;
  }
  return { v4: false, net: { words, masks } };
}

/** Whether `text` is a network `parseNets` accepts (a CIDR or a plain IP). */
export function isNet(text: string): boolean {
  return parseNet(text) !== null;
}

/** A compiled set of networks. `*` (or 0.0.0.0/0 and ::/0) matches every address. */
export class NetSet {
  /** IPv4 networks as [net, mask, net, mask, ...]. */
  readonly #v4: Uint32Array;
  readonly #v6: readonly Net[];
  readonly #allV4: boolean;
  readonly #allV6: boolean;

  private constructor(v4: number[], v6: Net[]) {
    this.#allV4 = v4.some((_, i) => i % 2 === 1 && v4[i] === 0);
    this.#allV6 = v6.some((n) => n.masks[0] === 0);
    this.#v4 = Uint32Array.from(v4);
    this.#v6 = v6;
  }

  /** Every address, IPv4 and IPv6 (`net *`). */
  static readonly ANY: NetSet = new NetSet([0, 0], [{
    words: new Uint32Array(4),
    masks: new Uint32Array(4),
  }]);

  /**
   * Compiles networks; `*` means every address. Returns the set, or the first token that is
   * not a network (for the caller's FILE:LINE error).
   */
  static parse(tokens: readonly string[]): NetSet | { bad: string } {
    const v4: number[] = [];
    const v6: Net[] = [];
    for (const t of tokens) {
      if (t === "*") return NetSet.ANY;
      const n = parseNet(t);
      if (n === null) return { bad: t };
      if (n.v4) v4.push(n.net.words[0], n.net.masks[0]);
      else v6.push(n.net);
    }
    return new NetSet(v4, v6);
  }

  /** Whether the set holds nothing. */
  get empty(): boolean {
    return this.#v4.length === 0 && this.#v6.length === 0;
  }

  /** Whether `addr` lies in one of the networks. */
  has(addr: Address): boolean {
    if (typeof addr === "number") {
      if (this.#allV4) return true;
      const v4 = this.#v4;
      for (let i = 0; i < v4.length; i += 2) {
        if (((addr & v4[i + 1]) >>> 0) === v4[i]) return true;
      }
      return false;
    }
    if (this.#allV6) return true;
    for (const n of this.#v6) {
      if (
        ((addr[0] & n.masks[0]) >>> 0) === n.words[0] &&
        ((addr[1] & n.masks[1]) >>> 0) === n.words[1] &&
        ((addr[2] & n.masks[2]) >>> 0) === n.words[2] &&
        ((addr[3] & n.masks[3]) >>> 0) === n.words[3]
      ) return true;
    }
    return false;
  }
}
