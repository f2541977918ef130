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
export function encodeFast(msg: DnsMessage): Uint8Array | null {
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
  w.off = 12;
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
    if (klass < 0 || !w.name(q.name) || !w.room(4)) return null;
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
  if (!w.name(r.name) || !w.room(10)) return false;
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
    case 39: // DNAME
      if (!w.name(data)) return false;
      break;
    case 15: { // MX
      if (data === null || typeof data !== "object") return false;
      const pref = data.preference || 0;
      if (!isUint(pref, 0xffff) || !w.room(2)) return false;
      w.u16(pref);
      if (!w.name(data.exchange)) return false;
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
      if (!w.name(data.target)) return false;
      break;
    }
    case 6: { // SOA
      if (data === null || typeof data !== "object") return false;
      // The rname is a mailbox: dns-packet treats a label ending in "\" specially.
      if (typeof data.rname !== "string" || data.rname.includes("\\")) return false;
      if (!w.name(data.mname) || !w.name(data.rname) || !w.room(20)) return false;
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

/** A growable output buffer, reused across messages (the result is copied out). */
class Writer {
  buf = new Uint8Array(4096);
  off = 0;

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
   * Writes a name as dns-packet does (one leading and one trailing dot ignored, no
   * compression), for printable-ASCII names whose labels are 1 to 63 bytes; false otherwise.
   */
  name(s: unknown): boolean {
    if (typeof s !== "string") return false;
    let start = 0;
    let end = s.length;
    if (end > 0 && s.charCodeAt(0) === 0x2e) start = 1;
    if (end > start && s.charCodeAt(end - 1) === 0x2e) end--;
    if (!this.room(end - start + 2)) return false;
    const buf = this.buf;
    let off = this.off;
    let labelAt = off++;
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x2e) {
        const n = off - labelAt - 1;
        if (n === 0 || n > 63) return false;
        buf[labelAt] = n;
        labelAt = off++;
      } else if (c < 0x20 || c > 0x7e) {
        return false;
      } else {
        buf[off++] = c;
      }
    }
    const n = off - labelAt - 1;
    if (end > start) {
      if (n === 0 || n > 63) return false;
      buf[labelAt] = n;
      buf[off++] = 0;
    } else {
      off = labelAt; // the root: a single zero
      buf[off++] = 0;
    }
    this.off = off;
    return true;
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
