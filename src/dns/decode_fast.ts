/**
 * The decoding fast path for the shape the hot path sees nearly always: a query with one
 * question and at most an option-less OPT.
 *
 * It returns null for anything else, and the caller then uses `dns-packet`. Whatever it accepts
 * it turns into exactly what `dns-packet` gives (the same objects): tests/dns/decode_fast_test.ts
 * compares them on random and mutated input. When in doubt it declines, so odd or malformed
 * input always takes the `dns-packet` path and fails (or not) just as it would there.
 */
import { classes, OPT_TYPE, types } from "./codes.ts";
import type { DnsMessage, DnsRecord, OptRecord, Question } from "./message.ts";

const QR = 0x8000;

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
