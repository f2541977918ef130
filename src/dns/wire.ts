/**
 * Fast paths of the DNS codec for the shapes the hot path sees nearly always: a query with one
 * question and at most an option-less OPT, and replies made of common record types.
 *
 * Each function returns null when the input is anything else, and the caller then uses
 * `dns-packet`. Whatever they accept they turn into exactly what `dns-packet` gives (the same
 * objects, the same bytes): tests/dns/wire_test.ts compares them on random and mutated input.
 * When in doubt they decline, so odd or malformed input always takes the `dns-packet` path and
 * fails (or not) just as it would there.
 */
import * as classes from "dns-packet/classes.js";
import * as types from "dns-packet/types.js";
import type { DnsMessage, DnsRecord, OptRecord, Question, ResourceRecord } from "./message.ts";

const QR = 0x8000;
const OPT_TYPE = 41;

/**
 * Decodes a query made of a header, one question and optionally one OPT record without
 * options, with no name compression and ASCII names. Returns null for anything else.
 */
export function decodeFast(buf: Uint8Array): DnsMessage | null {
  const len = buf.length;
  if (len < 17) return null;
  // Counts: one question, no answers or authorities, at most one additional.
  if (buf[4] !== 0 || buf[5] !== 1 || buf[6] !== 0 || buf[7] !== 0) return null;
  if (buf[8] !== 0 || buf[9] !== 0 || buf[10] !== 0 || buf[11] > 1) return null;
  const name = readName(buf, 12);
  if (name === null) return null;
  let off = nameEnd;
  if (off + 4 > len) return null;
  const question: Question = {
    name,
    type: types.toString((buf[off] << 8) | buf[off + 1]),
    class: classes.toString((buf[off + 2] << 8) | buf[off + 3]),
  };
  off += 4;
  const additionals: DnsRecord[] = [];
  if (buf[11] === 1) {
    // The root name, type OPT, and an empty RDATA: 11 bytes.
    if (off + 11 > len || buf[off] !== 0) return null;
    if (((buf[off + 1] << 8) | buf[off + 2]) !== OPT_TYPE) return null;
    if (buf[off + 9] !== 0 || buf[off + 10] !== 0) return null;
    const flags = (buf[off + 7] << 8) | buf[off + 8];
    const opt: OptRecord = {
      name: ".",
      type: "OPT",
      udpPayloadSize: (buf[off + 3] << 8) | buf[off + 4],
      extendedRcode: buf[off + 5],
      ednsVersion: buf[off + 6],
      flags,
      flag_do: ((flags >> 15) & 0x1) === 1,
      options: [],
    };
    additionals.push(opt);
  }
  const flags = (buf[2] << 8) | buf[3];
  return {
    id: (buf[0] << 8) | buf[1],
    type: (flags & QR) !== 0 ? "response" : "query",
    flags,
    questions: [question],
    answers: [],
    authorities: [],
    additionals,
  };
}

/** Where the last `readName` stopped. */
let nameEnd = 0;

/** An uncompressed ASCII name at `off` as dns-packet spells it, or null to decline. */
function readName(buf: Uint8Array, off: number): string | null {
  const len = buf.length;
  let name = "";
  let total = 0;
  for (;;) {
    if (off >= len) return null;
    const n = buf[off++];
    if (n === 0) break;
    if (n > 63 || off + n > len) return null; // a pointer, a bad label or an overflow
    total += n + 1;
    if (total > 254) return null;
    if (name.length > 0) name += ".";
    for (let i = off; i < off + n; i++) {
      const c = buf[i];
      if (c >= 0x80) return null; // UTF-8 decoding is dns-packet's business
      name += String.fromCharCode(c);
    }
    off += n;
  }
  nameEnd = off;
  return name.length === 0 ? "." : name;
}

const RECORD_TYPES: ReadonlyMap<string, number> = new Map([
  ["A", 1],
  ["NS", 2],
  ["CNAME", 5],
  ["SOA", 6],
  ["PTR", 12],
  ["MX", 15],
  ["AAAA", 28],
  ["SRV", 33],
  ["DNAME", 39],
  ["OPT", OPT_TYPE],
]);

/**
 * Encodes a message whose records are all A, AAAA, NS, CNAME, DNAME, PTR, MX, SRV, SOA or an
 * option-less OPT, with plain ASCII names and in-range numbers. Returns null for anything
 * else (the caller uses dns-packet, which then encodes it or throws as it always did).
 */
export function encodeFast(msg: DnsMessage, compress = true): Uint8Array | null {
  const { questions, answers, authorities, additionals } = msg;
  if (
    !Array.isArray(questions) || !Array.isArray(answers) || !Array.isArray(authorities) ||
    !Array.isArray(additionals)
  ) return null;
  const id = msg.id === undefined ? 0 : msg.id;
  if (!isUint(id, 0xffff) || typeof msg.flags !== "number") return null;
  if (
    questions.length > 0xffff || answers.length > 0xffff || authorities.length > 0xffff ||
    additionals.length > 0xffff
  ) return null;

  const w = writer;
  w.reset(compress);
  const out = w.buf;
  const flags = msg.flags & 0xffff;
  out[0] = id >> 8;
  out[1] = id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = questions.length >> 8;
  out[5] = questions.length & 0xff;
  out[6] = answers.length >> 8;
  out[7] = answers.length & 0xff;
  out[8] = authorities.length >> 8;
  out[9] = authorities.length & 0xff;
  out[10] = additionals.length >> 8;
  out[11] = additionals.length & 0xff;

  for (let i = 0; i < questions.length; i++) {
    const q = questions[i];
    if (q === null || typeof q !== "object") return null;
    const type = typeof q.type === "string" ? RECORD_TYPES.get(q.type) ?? questionType(q.type) : -1;
    if (type === undefined || type < 0) return null;
    const klass = classCode(q.class);
    if (klass < 0 || !w.name(q.name, true) || !w.room(4)) return null;
    w.u16(type);
    w.u16(klass);
  }
  if (!records(w, answers) || !records(w, authorities) || !records(w, additionals)) return null;
  return copyBytes(w.buf.subarray(0, w.off));
}

const SLAB_SIZE = 16384;
const SLAB_MAX_COPY = 2048;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/**
 * A copy of `bytes` that nothing else writes to. Small copies are views into a shared slab,
 * as Node's Buffer pool does: allocating one ArrayBuffer per packet costs ten times more.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > SLAB_MAX_COPY) return bytes.slice();
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const start = slabUsed;
  slab.set(bytes, start);
  slabUsed = (start + n + 7) & ~7;
  return slab.subarray(start, start + n);
}

function records(w: Writer, list: readonly DnsRecord[]): boolean {
  for (let i = 0; i < list.length; i++) if (!record(w, list[i])) return false;
  return true;
}

function record(w: Writer, rec: DnsRecord): boolean {
  const r = rec as ResourceRecord;
  if (r === null || typeof r !== "object" || typeof r.type !== "string") return false;
  const type = RECORD_TYPES.get(r.type);
  if (type === undefined) return false;
  if (type === OPT_TYPE) {
    const o = rec as OptRecord;
    const opts: unknown = o.options;
    if (o.name !== "." || (o as { data?: unknown }).data != null) return false;
    if (opts != null && !(Array.isArray(opts) && opts.length === 0)) return false;
    const size = o.udpPayloadSize || 4096;
    const ext = o.extendedRcode || 0;
    const version = o.ednsVersion || 0;
    const flags = o.flags || 0;
    if (!isUint(size, 0xffff) || !isUint(ext, 0xff) || !isUint(version, 0xff)) return false;
    if (!isUint(flags, 0xffff) || !w.room(11)) return false;
    w.u8(0);
    w.u16(OPT_TYPE);
    w.u16(size);
    w.u8(ext);
    w.u8(version);
    w.u16(flags);
    w.u16(0);
    return true;
  }
  if (r.flush) return false;
  const klass = classCode(r.class);
  const ttl = r.ttl || 0;
  if (klass < 0 || !isUint(ttl, 0xffffffff)) return false;
  if (!w.name(r.name, true) || !w.room(10)) return false;
  w.u16(type);
  w.u16(klass);
  w.u32(ttl);
  const lengthAt = w.off;
  w.off += 2;
  const data = r.data;
  switch (type) {
    case 1: // A
      if (!w.ipv4(data)) return false;
      break;
    case 28: // AAAA
      if (!w.ipv6(data)) return false;
      break;
    case 2: // NS
    case 5: // CNAME
    case 12: // PTR
      if (!w.name(data, true)) return false;
      break;
    case 39: // DNAME: never compressed (RFC 6672), as miekg/dns packs it
      if (!w.name(data, false)) return false;
      break;
    case 15: { // MX
      if (data === null || typeof data !== "object") return false;
      const pref = data.preference || 0;
      if (!isUint(pref, 0xffff) || !w.room(2)) return false;
      w.u16(pref);
      if (!w.name(data.exchange, true)) return false;
      break;
    }
    case 33: { // SRV
      if (data === null || typeof data !== "object") return false;
      const priority = data.priority || 0;
      const weight = data.weight || 0;
      const port = data.port || 0;
      if (!isUint(priority, 0xffff) || !isUint(weight, 0xffff) || !isUint(port, 0xffff)) {
        return false;
      }
      if (!w.room(6)) return false;
      w.u16(priority);
      w.u16(weight);
      w.u16(port);
      // RFC 2782: the target is not compressed (miekg/dns agrees); it can be pointed to.
      if (!w.name(data.target, false)) return false;
      break;
    }
    case 6: { // SOA
      if (data === null || typeof data !== "object") return false;
      // The rname is a mailbox: dns-packet treats a label ending in "\" specially.
      if (typeof data.rname !== "string" || data.rname.includes("\\")) return false;
      if (!w.name(data.mname, true) || !w.name(data.rname, true) || !w.room(20)) return false;
      for (const v of [data.serial, data.refresh, data.retry, data.expire, data.minimum]) {
        const n = v || 0;
        if (!isUint(n, 0xffffffff)) return false;
        w.u32(n);
      }
      break;
    }
    default:
      return false;
  }
  const rdlength = w.off - lengthAt - 2;
  w.buf[lengthAt] = rdlength >> 8;
  w.buf[lengthAt + 1] = rdlength & 0xff;
  return true;
}

/** A question type dns-packet knows by name (its table), or -1; types it maps to 0 decline. */
function questionType(name: string): number {
  const code = types.toType(name);
  return code > 0 && code <= 0xffff && Number.isInteger(code) && name === name.toUpperCase() &&
      !name.startsWith("UNKNOWN_")
    ? code
    : -1;
}

/** The class code for an absent or upper-case class name dns-packet knows, or -1. */
function classCode(klass: string | undefined): number {
  if (klass === undefined || klass === "IN") return 1;
  if (typeof klass !== "string" || klass !== klass.toUpperCase()) return -1;
  const code = classes.toClass(klass);
  return code === 0 ? -1 : code;
}

function isUint(n: unknown, max: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= max;
}

/** How many name suffixes are compared in place before a Map takes over. */
const SMALL_TABLE = 48;

/** A growable output buffer, reused across messages (the result is copied out). */
class Writer {
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

  u8(v: number): void {
    this.buf[this.off++] = v;
  }

  u16(v: number): void {
    this.buf[this.off++] = v >> 8;
    this.buf[this.off++] = v & 0xff;
  }

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

const writer = new Writer();

/** Where the name at `off` ends (after its zero or its pointer); -1 if it runs past `end`. */
function skipName(buf: Uint8Array, off: number, end: number): number {
  for (let hops = 0; hops < 128 && off < end; hops++) {
    const n = buf[off];
    if (n === 0) return off + 1;
    if ((n & 0xc0) === 0xc0) return off + 2 <= end ? off + 2 : -1;
    if (n > 63) return -1;
    off += n + 1;
  }
  return -1;
}

/**
 * Compresses the owner names of an uncompressed message (what dns-packet writes: questions and
 * records for the types our fast path declines). Record data is copied as it is, so any type is
 * safe. Returns `wire` itself when it cannot parse it or nothing is gained.
 */
export function compressWire(wire: Uint8Array): Uint8Array {
  const len = wire.length;
  if (len < 12) return wire;
  const qd = (wire[4] << 8) | wire[5];
  const rr = ((wire[6] << 8) | wire[7]) + ((wire[8] << 8) | wire[9]) +
    ((wire[10] << 8) | wire[11]);
  const out = new Uint8Array(len);
  out.set(wire.subarray(0, 12));
  let o = 12;
  let i = 12;
  const seen = new Map<string, number>();
  const name = (): boolean => {
    // Labels of the name at i, uncompressed (dns-packet never writes pointers).
    const labels: number[] = [];
    let p = i;
    for (let hops = 0; hops < 128; hops++) {
      if (p >= len) return false;
      const n = wire[p];
      if (n === 0) break;
      if (n > 63 || p + 1 + n > len) return false;
      labels.push(p);
      p += n + 1;
    }
    const nameEnd = p + 1;
    let k = 0;
    for (; k < labels.length; k++) {
      const at = seen.get(latin1(wire, labels[k], p));
      if (at !== undefined) {
        const head = labels[k] - i;
        out.set(wire.subarray(i, labels[k]), o);
        for (let j = 0; j < k; j++) {
          const target = o + labels[j] - i;
          if (target < 0x4000) seen.set(latin1(wire, labels[j], p), target);
        }
        o += head;
        out[o++] = 0xc0 | (at >> 8);
        out[o++] = at & 0xff;
        i = nameEnd;
        return true;
      }
    }
    for (let j = 0; j < labels.length; j++) {
      const target = o + labels[j] - i;
      if (target < 0x4000) seen.set(latin1(wire, labels[j], p), target);
    }
    out.set(wire.subarray(i, nameEnd), o);
    o += nameEnd - i;
    i = nameEnd;
    return true;
  };
  for (let q = 0; q < qd; q++) {
    if (!name() || i + 4 > len) return wire;
    out.set(wire.subarray(i, i + 4), o);
    i += 4;
    o += 4;
  }
  for (let r = 0; r < rr; r++) {
    if (!name() || i + 10 > len) return wire;
    const rdlength = (wire[i + 8] << 8) | wire[i + 9];
    const next = i + 10 + rdlength;
    if (next > len) return wire;
    out.set(wire.subarray(i, next), o);
    o += next - i;
    i = next;
  }
  if (i !== len || o === len) return wire;
  return out.subarray(0, o);
}

/** Bytes from..to as a string key, one char per byte. */
function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/**
 * Cuts an encoded message to at most `maxSize` bytes by keeping the longest run of whole
 * records (answers, then authorities, then additionals) that fits with the OPT record, which
 * must be the last record if present and is always kept. Pointers only point backwards, so a
 * prefix of a compressed message is still valid. TC is set only when an answer or authority
 * record was cut (RFC 2181 9: additionals are optional). Returns `wire` if it already fits or
 * cannot be parsed.
 */
export function truncateWire(wire: Uint8Array, maxSize: number): Uint8Array {
  const len = wire.length;
  if (len <= maxSize || len < 12) return wire;
  const qd = (wire[4] << 8) | wire[5];
  const an = (wire[6] << 8) | wire[7];
  const ns = (wire[8] << 8) | wire[9];
  const ar = (wire[10] << 8) | wire[11];
  let off = 12;
  for (let q = 0; q < qd; q++) {
    off = skipName(wire, off, len);
    if (off < 0 || off + 4 > len) return wire;
    off += 4;
  }
  const questionsEnd = off;
  const total = an + ns + ar;
  const ends = new Array<number>(total);
  let lastType = -1;
  for (let r = 0; r < total; r++) {
    off = skipName(wire, off, len);
    if (off < 0 || off + 10 > len) return wire;
    lastType = (wire[off] << 8) | wire[off + 1];
    off += 10 + ((wire[off + 8] << 8) | wire[off + 9]);
    if (off > len) return wire;
    ends[r] = off;
  }
  const hasOpt = ar > 0 && lastType === OPT_TYPE;
  const records = hasOpt ? total - 1 : total;
  const optStart = hasOpt ? (records > 0 ? ends[records - 1] : questionsEnd) : len;
  const optLength = len - optStart;
  const budget = maxSize - optLength;
  let keep = 0;
  while (keep < records && ends[keep] <= budget) keep++;
  const cutAt = keep > 0 ? ends[keep - 1] : questionsEnd;
  const out = new Uint8Array(cutAt + optLength);
  out.set(wire.subarray(0, cutAt));
  out.set(wire.subarray(optStart), cutAt);
  const keptAn = Math.min(keep, an);
  const keptNs = Math.min(keep - keptAn, ns);
  const keptAr = keep - keptAn - keptNs + (hasOpt ? 1 : 0);
  out[6] = keptAn >> 8;
  out[7] = keptAn & 0xff;
  out[8] = keptNs >> 8;
  out[9] = keptNs & 0xff;
  out[10] = keptAr >> 8;
  out[11] = keptAr & 0xff;
  if (keptAn < an || keptNs < ns) out[2] |= 0x02; // TC
  return out;
}
