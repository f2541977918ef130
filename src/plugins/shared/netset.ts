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

/** Parses IPv6 (with `::`, an embedded IPv4 tail, and an ignored `%zone`); null when invalid. */
export function parseIPv6(text: string): Uint32Array | null {
  const pct = text.indexOf("%");
  const s = pct >= 0 ? text.slice(0, pct) : text;
  if (s.length < 2 || !s.includes(":")) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups: number[] = [];
  const parseSide = (side: string, last: boolean): number[] | null => {
    if (side === "") return [];
    const out: number[] = [];
    const parts = side.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (last && i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (v4 < 0) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (halves.length === 2) {
    const head = parseSide(halves[0], false);
    const tail = parseSide(halves[1], true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups.push(...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseSide(s, true);
    if (all === null || all.length !== 8) return null;
    groups.push(...all);
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return words;
}

/** Parses a client address; an IPv4-mapped IPv6 address becomes IPv4. Null when invalid. */
export function parseAddress(s: string): Address | null {
  const v4 = parseIPv4(s);
  if (v4 >= 0) return v4;
  const v6 = parseIPv6(s);
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
