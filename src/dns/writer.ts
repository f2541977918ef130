/**
 * The output buffer of the encoding fast path: growable, reused across messages, with the name
 * compression table and strict address parsing.
 */

/** Whether `n` is an integer from 0 to `max`. */
export function isUint(n: unknown, max: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= max;
}

/** How many name suffixes are compared in place before a Map takes over. */
const SMALL_TABLE = 48;

/** A growable output buffer, reused across messages (the result is copied out). */
export class Writer {
  buf = new Uint8Array(4096);
  off = 0;
  /** Whether this message is compressed. */
  compress = true;

  /** Makes room for `n` more bytes; false past 65535 (dns-packet would throw there). */
  room(n: number): boolean {
    const need = this.off + n;
    if (need <= this.buf.length) return true;
    if (need > 0x10000 + 512) return false;
    const bigger = new Uint8Array(Math.max(need, this.buf.length * 2));
    bigger.set(this.buf.subarray(0, this.off));
    this.buf = bigger;
    return true;
  }

  /** Writes `data` as it is (room must have been made). */
  bytes(data: Uint8Array): void {
    this.buf.set(data, this.off);
    this.off += data.length;
  }

  /** Writes one byte (room must have been made). */
  u8(v: number): void {
    this.buf[this.off++] = v;
  }

  /** Writes a big-endian 16-bit number. */
  u16(v: number): void {
    this.buf[this.off++] = v >> 8;
    this.buf[this.off++] = v & 0xff;
  }

  /** Writes a big-endian 32-bit number. */
  u32(v: number): void {
    this.buf[this.off++] = v >>> 24;
    this.buf[this.off++] = (v >>> 16) & 0xff;
    this.buf[this.off++] = (v >>> 8) & 0xff;
    this.buf[this.off++] = v & 0xff;
  }

  /**
   * Writes a name as dns-packet spells it (one leading and one trailing dot ignored), for
   * printable-ASCII names whose labels are 1 to 63 bytes; false otherwise. With `compress`, the
   * longest suffix already written becomes a pointer (RFC 1035 4.1.4). Every label written is
   * remembered as a pointer target. Suffixes match exactly (case included), so decoding gives
   * back the very string.
   */
  name(s: unknown, compress: boolean): boolean {
    if (typeof s !== "string") return false;
    let start = 0;
    let end = s.length;
    if (end > 0 && s.charCodeAt(0) === 0x2e) start = 1;
    if (end > start && s.charCodeAt(end - 1) === 0x2e) end--;
    if (end <= start) { // the root: a single zero
      if (!this.room(1)) return false;
      this.buf[this.off++] = 0;
      return true;
    }
    // The first label from which on the name has been written before, and where.
    let cut = end;
    let pointer = -1;
    if (compress && this.compress && this.#count > 0) {
      for (let i = start;;) {
        const at = this.#find(s, i, end);
        if (at >= 0) {
          cut = i;
          pointer = at;
          break;
        }
        const dot = s.indexOf(".", i);
        if (dot < 0 || dot >= end) break;
        i = dot + 1;
      }
    }
    if (!this.room(cut - start + 3)) return false;
    const buf = this.buf;
    let off = this.off;
    if (cut > start) {
      const stop = cut < end ? cut - 1 : end; // the labels before the pointer, or all
      const remember = this.compress;
      let labelAt = off++;
      if (remember && labelAt < 0x4000) this.#remember(s, start, end, labelAt);
      for (let i = start; i < stop; i++) {
        const c = s.charCodeAt(i);
        if (c === 0x2e) {
          const n = off - labelAt - 1;
          if (n === 0 || n > 63) return false;
          buf[labelAt] = n;
          labelAt = off++;
          if (remember && labelAt < 0x4000) this.#remember(s, i + 1, end, labelAt);
        } else if (c < 0x20 || c > 0x7e) {
          return false;
        } else {
          buf[off++] = c;
        }
      }
      const n = off - labelAt - 1;
      if (n === 0 || n > 63) return false;
      buf[labelAt] = n;
    }
    if (pointer >= 0) {
      buf[off++] = 0xc0 | (pointer >> 8);
      buf[off++] = pointer & 0xff;
    } else {
      buf[off++] = 0;
    }
    this.off = off;
    return true;
  }

  // The suffixes written so far: s.slice(start, end) is at offset `at`. A reply has a handful,
  // so they sit in flat arrays, compared in place (no string is cut, nothing allocated); past
  // SMALL_TABLE they move to a Map, dropped with the message (Map.clear reallocates anyway).
  #strs: string[] = [];
  #starts: number[] = [];
  #ends: number[] = [];
  #ats: number[] = [];
  #count = 0;
  #map: Map<string, number> | null = null;

  #remember(s: string, start: number, end: number, at: number): void {
    const map = this.#map;
    if (map !== null) {
      if (!map.has(s.slice(start, end))) map.set(s.slice(start, end), at);
      return;
    }
    const n = this.#count;
    if (n === SMALL_TABLE) {
      const m = new Map<string, number>();
      for (let k = n - 1; k >= 0; k--) {
        m.set(this.#strs[k].slice(this.#starts[k], this.#ends[k]), this.#ats[k]);
      }
      this.#map = m;
      this.#remember(s, start, end, at);
      return;
    }
    this.#strs[n] = s;
    this.#starts[n] = start;
    this.#ends[n] = end;
    this.#ats[n] = at;
    this.#count = n + 1;
  }

  /** The offset of s.slice(start, end) written before, or -1. */
  #find(s: string, start: number, end: number): number {
    if (this.#map !== null) return this.#map.get(s.slice(start, end)) ?? -1;
    const len = end - start;
    const strs = this.#strs;
    const starts = this.#starts;
    const ends = this.#ends;
    for (let k = 0; k < this.#count; k++) {
      const from = starts[k];
      if (ends[k] - from !== len) continue;
      const t = strs[k];
      if (t === s && from === start) return this.#ats[k]; // the very name again (usual)
      let j = 0;
      while (j < len && t.charCodeAt(from + j) === s.charCodeAt(start + j)) j++;
      if (j === len) return this.#ats[k];
    }
    return -1;
  }

  /** Starts a message: nothing written yet to point to. */
  reset(compress: boolean): void {
    this.off = 12;
    this.compress = compress;
    this.#count = 0;
    this.#map = null;
  }

  /** Strict dotted-quad IPv4, each part 0-255 without leading zeros. */
  ipv4(s: unknown): boolean {
    if (typeof s !== "string" || !this.room(4)) return false;
    let part = 0;
    let digits = 0;
    let parts = 0;
    const start = this.off;
    for (let i = 0; i <= s.length; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 0x2e;
      if (c === 0x2e) {
        if (digits === 0 || parts === 4) return false;
        this.buf[start + parts++] = part;
        part = 0;
        digits = 0;
      } else if (c >= 0x30 && c <= 0x39) {
        if (digits > 0 && part === 0) return false; // leading zero
        part = part * 10 + (c - 0x30);
        if (++digits > 3 || part > 255) return false;
      } else {
        return false;
      }
    }
    if (parts !== 4) return false;
    this.off += 4;
    return true;
  }

  /**
   * IPv6 in hex groups with at most one "::" (no embedded IPv4, no zone), parsed strictly;
   * false for anything else.
   */
  ipv6(s: unknown): boolean {
    if (typeof s !== "string" || s.length < 2 || s.length > 39 || !this.room(16)) return false;
    const groups: number[] = [];
    let gap = -1;
    let i = 0;
    if (s.startsWith("::")) {
      gap = 0;
      i = 2;
    }
    while (i < s.length) {
      let v = 0;
      let digits = 0;
      while (i < s.length) {
        const c = s.charCodeAt(i);
        let d: number;
        if (c >= 0x30 && c <= 0x39) d = c - 0x30;
        else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
        else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
        else break;
        v = (v << 4) | d;
        if (++digits > 4) return false;
        i++;
      }
      if (digits === 0) return false;
      groups.push(v);
      if (i === s.length) break;
      if (s.charCodeAt(i) !== 0x3a) return false;
      i++;
      if (i < s.length && s.charCodeAt(i) === 0x3a) {
        if (gap >= 0) return false;
        gap = groups.length;
        i++;
      } else if (i === s.length) {
        return false; // a trailing single ":"
      }
    }
    // ip-codec (dns-packet's) mis-places a "::" that stands for a single group: decline it.
    if (gap < 0 ? groups.length !== 8 : groups.length > 6) return false;
    const buf = this.buf;
    let off = this.off;
    const fill = 8 - groups.length;
    for (let g = 0; g < groups.length; g++) {
      if (g === gap) { for (let k = 0; k < fill; k++, off += 2) buf[off] = buf[off + 1] = 0; }
      buf[off++] = groups[g] >> 8;
      buf[off++] = groups[g] & 0xff;
    }
    if (gap === groups.length) {
      for (let k = 0; k < fill; k++, off += 2) buf[off] = buf[off + 1] = 0;
    }
    this.off = off;
    return true;
  }
}
