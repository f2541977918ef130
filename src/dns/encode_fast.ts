/**
 * The encoding fast path for replies made of common record types, with names compressed.
 *
 * It returns null for anything else, and the caller then uses `dns-packet`. Whatever it accepts
 * it writes as `dns-packet` would (uncompressed: the same bytes; compressed: bytes that
 * `dns-packet` decodes to the same message): tests/dns/encode_fast_test.ts compares them on
 * random input. When in doubt it declines, so odd input always takes the `dns-packet` path and
 * fails (or not) just as it would there.
 */
import { copyBytes } from "./bytes.ts";
import { classes, OPT_TYPE, types } from "./codes.ts";
import type { DnsMessage, DnsRecord, OptRecord, ResourceRecord } from "./message.ts";
import { isUint, Writer } from "./writer.ts";

/** The one output buffer, reused: each result is copied out of it. */
const writer = new Writer();

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

function records(w: Writer, list: readonly DnsRecord[]): boolean {
  for (let i = 0; i < list.length; i++) if (!record(w, list[i])) return false;
  return true;
}

/**
 * An OPT's RDATA: each option given as a numeric code and its data bytes (what the fast
 * decoder makes, and what etcdns builds); an option described by other fields is declined.
 */
function options(w: Writer, list: readonly unknown[]): boolean {
  const lengthAt = w.off;
  if (!w.room(2)) return false;
  w.off += 2;
  for (const option of list) {
    if (option === null || typeof option !== "object") return false;
    const { code, data } = option as { code?: unknown; data?: unknown };
    if (!isUint(code, 0xffff) || !(data instanceof Uint8Array)) return false;
    if (!w.room(4 + data.length)) return false;
    w.u16(code);
    w.u16(data.length);
    w.bytes(data);
  }
  const length = w.off - lengthAt - 2;
  if (length > 0xffff) return false;
  w.buf[lengthAt] = length >> 8;
  w.buf[lengthAt + 1] = length & 0xff;
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
    if (opts != null && !Array.isArray(opts)) return false;
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
    return options(w, opts ?? []);
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
  // Read as untrusted: records built in plain JavaScript (or tests) may not match their types.
  const data: unknown = r.data;
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
      if (!isFields(data)) return false;
      const pref = data.preference || 0;
      if (!isUint(pref, 0xffff) || !w.room(2)) return false;
      w.u16(pref);
      if (!w.name(data.exchange, true)) return false;
      break;
    }
    case 33: { // SRV
      if (!isFields(data)) return false;
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
      if (!isFields(data)) return false;
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

/** Whether `v` is an object whose fields can be read (record data other than a string). */
function isFields(v: unknown): v is Readonly<Record<string, unknown>> {
  return v !== null && typeof v === "object";
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
