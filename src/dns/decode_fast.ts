/**
 * The decoding fast path for the shape the hot path sees nearly always: a query with one
 * question and at most an OPT (dig sends a cookie option with every query).
 *
 * It returns null for anything else, and the caller then uses `dns-packet`. Whatever it accepts
 * it turns into exactly what `dns-packet` gives (the same objects): tests/dns/decode_fast_test.ts
 * compares them on random and mutated input. When in doubt it declines, so odd or malformed
 * input always takes the `dns-packet` path and fails (or not) just as it would there.
 */
import { classes, OPT_TYPE, optionName, types } from "./codes.ts";
import type { DnsMessage, DnsRecord, EdnsOption, OptRecord, Question } from "./message.ts";

const QR = 0x8000;
/** EDNS options dns-packet decodes into fields of their own. */
const CLIENT_SUBNET = 8;
const TCP_KEEPALIVE = 11;
const KEY_TAG = 14;

/**
 * Decodes a query made of a header, one question and optionally one OPT record, with no name
 * compression and ASCII names. Returns null for anything else.
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
  // Literals, not push: a push onto [] reserves room for 17 records.
  let additionals: DnsRecord[] = [];
  if (buf[11] === 1) {
    // The root name, type OPT, then its options (RDATA).
    if (off + 11 > len || buf[off] !== 0) return null;
    if (((buf[off + 1] << 8) | buf[off + 2]) !== OPT_TYPE) return null;
    const end = off + 11 + ((buf[off + 9] << 8) | buf[off + 10]);
    if (end > len) return null;
    const options = end === off + 11 ? [] : readOptions(buf, off + 11, end);
    if (options === null) return null;
    const flags = (buf[off + 7] << 8) | buf[off + 8];
    const opt: OptRecord = {
      name: ".",
      type: "OPT",
      udpPayloadSize: (buf[off + 3] << 8) | buf[off + 4],
      extendedRcode: buf[off + 5],
      ednsVersion: buf[off + 6],
      flags,
      flag_do: ((flags >> 15) & 0x1) === 1,
      options,
    };
    additionals = [opt];
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

/**
 * The EDNS options between `off` and `end`, as dns-packet gives them (`data` a view into `buf`),
 * or null to decline: a client subnet (dns-packet decodes its address), or a list that does not
 * split into whole options. decode_reply.ts reads a reply's OPT with it too.
 */
export function readOptions(buf: Uint8Array, off: number, end: number): EdnsOption[] | null {
  const options: EdnsOption[] = [];
  while (off < end) {
    if (off + 4 > end) return null;
    const code = (buf[off] << 8) | buf[off + 1];
    const size = (buf[off + 2] << 8) | buf[off + 3];
    const at = off + 4;
    off = at + size;
    if (off > end || code === CLIENT_SUBNET) return null;
    const option: EdnsOption = { code, type: optionName(code), data: buf.subarray(at, off) };
    if (code === TCP_KEEPALIVE && size > 0) {
      if (size !== 2) return null;
      option.timeout = (buf[at] << 8) | buf[at + 1];
    } else if (code === KEY_TAG) {
      if (size % 2 !== 0) return null;
      const tags: number[] = [];
      for (let i = at; i < off; i += 2) tags.push((buf[i] << 8) | buf[i + 1]);
      option.tags = tags;
    }
    options.push(option);
  }
  return options;
}

/** Where the last `readName` stopped. */
let nameEnd = 0;

/**
 * Names decoded before, by a hash of their wire form: a query name repeats (clients ask the same
 * names again), and building it a character at a time is most of what decoding allocates. Each
 * hit is checked byte for byte, so a collision (or a hostile client's crafted one) only costs a
 * miss; the table is a fixed array, so its memory is bounded whatever arrives.
 */
const NAME_SLOTS = 4096;
const nameSlots: (string | undefined)[] = new Array(NAME_SLOTS).fill(undefined);

/** An uncompressed ASCII name at `off` as dns-packet spells it, or null to decline. */
function readName(buf: Uint8Array, off: number): string | null {
  const len = buf.length;
  const first = off;
  let total = 0;
  let hash = 0x811c9dc5; // FNV-1a over the wire bytes, length bytes included
  for (;;) {
    if (off >= len) return null;
    const n = buf[off++];
    hash = Math.imul(hash ^ n, 0x01000193);
    if (n === 0) break;
    if (n > 63 || off + n > len) return null; // a pointer, a bad label or an overflow
    total += n + 1;
    if (total > 254) return null;
    for (let i = off; i < off + n; i++) {
      const c = buf[i];
      if (c >= 0x80) return null; // UTF-8 decoding is dns-packet's business
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    off += n;
  }
  nameEnd = off;
  if (total === 0) return ".";
  const slot = (hash >>> 0) & (NAME_SLOTS - 1);
  const known = nameSlots[slot];
  if (known !== undefined && spells(known, buf, first, total)) return known;
  const name = buildName(buf, first);
  nameSlots[slot] = name;
  return name;
}

/** Whether `name` is the wire name at `off`, `total` bytes long without its final zero. */
function spells(name: string, buf: Uint8Array, off: number, total: number): boolean {
  if (name.length !== total - 1) return false;
  let j = 0;
  for (;;) {
    const n = buf[off++];
    if (n === 0) return true;
    if (j > 0 && name.charCodeAt(j++) !== 0x2e) return false;
    for (let i = off; i < off + n; i++) if (name.charCodeAt(j++) !== buf[i]) return false;
    off += n;
  }
}

/** The dotted name at `off`, which `readName` has checked. */
function buildName(buf: Uint8Array, off: number): string {
  let name = "";
  for (;;) {
    const n = buf[off++];
    if (n === 0) return name;
    if (name.length > 0) name += ".";
    for (let i = off; i < off + n; i++) name += String.fromCharCode(buf[i]);
    off += n;
  }
}
