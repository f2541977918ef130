/**
 * The decoding fast path for replies, what forward reads from its upstreams: questions and
 * records of the common types, with names compressed.
 *
 * As decode_fast.ts does for queries, it returns null for anything else and the caller then uses
 * `dns-packet`; whatever it accepts it turns into exactly what `dns-packet` gives (the same
 * objects): tests/dns/decode_reply_test.ts compares them on random and mutated replies. Where
 * `dns-packet` reads loosely (record data whose length disagrees with what its fields take, which
 * it reads past or skips) this declines, so such input fails, or not, just as it would there.
 * Without it, the first forwarded query loaded dns-packet and Deno's npm layer for good (about
 * 1.3 MB), and every reply was read through Buffer's methods.
 */
import { classes, OPT_TYPE, types } from "./codes.ts";
import { readOptions } from "./decode_fast.ts";
import type {
  DnsMessage,
  DnsRecord,
  OptRecord,
  Question,
  RecordDataByType,
  ResourceRecord,
} from "./message.ts";

const QR = 0x8000;
/** The smallest record: a root or pointer owner (1 byte), type, class, TTL and data length. */
const MIN_RECORD = 11;

/** The record types this path reads; any other (TXT's data are Buffers there) declines. */
const A = 1;
const NS = 2;
const CNAME = 5;
const SOA = 6;
const PTR = 12;
const MX = 15;
const AAAA = 28;
const SRV = 33;
const DNAME = 39;

/**
 * Decodes a message whose records are all A, AAAA, NS, CNAME, DNAME, PTR, MX, SRV, SOA or OPT
 * (in the additional section, at the root, without a client subnet), with ASCII names. Returns
 * null for anything else.
 */
export function decodeReplyFast(buf: Uint8Array): DnsMessage | null {
  const len = buf.length;
  if (len < 12) return null;
  const qd = (buf[4] << 8) | buf[5];
  const an = (buf[6] << 8) | buf[7];
  const ns = (buf[8] << 8) | buf[9];
  const ar = (buf[10] << 8) | buf[11];
  // Counts a hostile reply inflates decline here, before anything is allocated for them.
  if (12 + qd * 5 + (an + ns + ar) * MIN_RECORD > len) return null;
  suffixCount = 0;
  let off = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(buf, off);
    if (name === null) return null;
    off = nameEnd;
    if (off + 4 > len) return null;
    questions.push({
      name,
      type: types.toString((buf[off] << 8) | buf[off + 1]),
      class: classes.toString((buf[off + 2] << 8) | buf[off + 3]),
    });
    off += 4;
  }
  const answers = readRecords(buf, off, an);
  if (answers === null) return null;
  const authorities = readRecords(buf, recordsEnd, ns);
  if (authorities === null) return null;
  const additionals = readRecords(buf, recordsEnd, ar, true);
  if (additionals === null) return null;
  const flags = (buf[2] << 8) | buf[3];
  return {
    id: (buf[0] << 8) | buf[1],
    type: (flags & QR) !== 0 ? "response" : "query",
    flags,
    questions,
    answers: answers as ResourceRecord[],
    authorities: authorities as ResourceRecord[],
    additionals,
  };
}

/** Where the last `readRecords` stopped. */
let recordsEnd = 0;

/** `count` records from `off`; OPT only where `optAllowed` (the additional section). */
function readRecords(
  buf: Uint8Array,
  off: number,
  count: number,
  optAllowed = false,
): DnsRecord[] | null {
  const len = buf.length;
  const records: DnsRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = readName(buf, off);
    if (name === null) return null;
    off = nameEnd;
    if (off + 10 > len) return null;
    const type = (buf[off] << 8) | buf[off + 1];
    const klass = (buf[off + 2] << 8) | buf[off + 3];
    const rdStart = off + 10;
    const rdEnd = rdStart + ((buf[off + 8] << 8) | buf[off + 9]);
    if (rdEnd > len) return null;
    if (type === OPT_TYPE) {
      if (!optAllowed || name !== ".") return null;
      const options = rdEnd === rdStart ? [] : readOptions(buf, rdStart, rdEnd);
      if (options === null) return null;
      const flags = (buf[off + 6] << 8) | buf[off + 7];
      const opt: OptRecord = {
        name,
        type: "OPT",
        udpPayloadSize: klass,
        extendedRcode: buf[off + 4],
        ednsVersion: buf[off + 5],
        flags,
        flag_do: ((flags >> 15) & 0x1) === 1,
        options,
      };
      records.push(opt);
    } else {
      const data = readData(buf, type, rdStart, rdEnd);
      if (data === null) return null;
      records.push({
        name,
        type: types.toString(type),
        ttl: u32(buf, off + 4),
        class: classes.toString(klass & 0x7fff),
        flush: (klass & 0x8000) !== 0,
        data,
      } as ResourceRecord);
    }
    off = rdEnd;
  }
  recordsEnd = off;
  return records;
}

type KnownData = RecordDataByType[keyof RecordDataByType];

/** The data of a record of `type` filling exactly rdStart..rdEnd, or null to decline. */
function readData(buf: Uint8Array, type: number, rdStart: number, rdEnd: number): KnownData | null {
  const size = rdEnd - rdStart;
  switch (type) {
    case A:
      if (size !== 4) return null;
      return `${buf[rdStart]}.${buf[rdStart + 1]}.${buf[rdStart + 2]}.${buf[rdStart + 3]}`;
    case AAAA:
      return size === 16 ? ipv6Text(buf, rdStart) : null;
    case NS:
    case CNAME:
    case PTR:
    case DNAME: {
      const target = readName(buf, rdStart);
      return target !== null && nameEnd === rdEnd ? target : null;
    }
    case MX: {
      if (size < 3) return null;
      const exchange = readName(buf, rdStart + 2);
      if (exchange === null || nameEnd !== rdEnd) return null;
      return { preference: (buf[rdStart] << 8) | buf[rdStart + 1], exchange };
    }
    case SRV: {
      if (size < 7) return null;
      const target = readName(buf, rdStart + 6);
      if (target === null || nameEnd !== rdEnd) return null;
      return {
        priority: (buf[rdStart] << 8) | buf[rdStart + 1],
        weight: (buf[rdStart + 2] << 8) | buf[rdStart + 3],
        port: (buf[rdStart + 4] << 8) | buf[rdStart + 5],
        target,
      };
    }
    case SOA: {
      const mname = readName(buf, rdStart);
      if (mname === null) return null;
      // dns-packet escapes a dot inside a label of the mailbox name; such names decline here.
      const rname = readName(buf, nameEnd, true);
      if (rname === null || nameEnd + 20 !== rdEnd) return null;
      const at = nameEnd;
      return {
        mname,
        rname,
        serial: u32(buf, at),
        refresh: u32(buf, at + 4),
        retry: u32(buf, at + 8),
        expire: u32(buf, at + 12),
        minimum: u32(buf, at + 16),
      };
    }
    default:
      return null;
  }
}

/** The unsigned 32-bit number at `off`. */
function u32(buf: Uint8Array, off: number): number {
  return buf[off] * 0x1000000 + ((buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]);
}

/**
 * An AAAA address as dns-packet's ip-codec writes it: lowercase hex groups without leading
 * zeros, and the first run of two or more zero groups (not the longest, as RFC 5952 would have
 * it; src/net/ipv6_text.ts) as `::`.
 */
function ipv6Text(buf: Uint8Array, off: number): string {
  let runStart = -1;
  let runEnd = -1;
  for (let i = 0; i < 7 && runStart < 0; i++) {
    if (group(buf, off, i) !== 0 || group(buf, off, i + 1) !== 0) continue;
    runStart = i;
    runEnd = i + 2;
    while (runEnd < 8 && group(buf, off, runEnd) === 0) runEnd++;
  }
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i === runStart) {
      text += "::";
      i = runEnd - 1;
      continue;
    }
    if (i > 0 && i !== runEnd) text += ":";
    text += group(buf, off, i).toString(16);
  }
  return text;
}

/** The `i`th 16-bit group of the address at `off`. */
function group(buf: Uint8Array, off: number, i: number): number {
  return (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
}

/** Where the last `readName` stopped: after the name's zero or its first pointer. */
let nameEnd = 0;

/** The most pointers one name may follow here. */
const MAX_HOPS = 64;

/**
 * The names pointers led to in this message, by offset (a reply's owners point at its question
 * again and again): each is decoded once. Reset per message; a short list, searched in order.
 */
const SUFFIXES = 16;
const suffixAt = new Int32Array(SUFFIXES);
const suffixText: string[] = new Array(SUFFIXES).fill("");
const suffixWire = new Int32Array(SUFFIXES);
let suffixCount = 0;

/** What the last `readSuffix` read: its wire length (labels and their length bytes). */
let suffixLength = 0;

/**
 * The name at `off` as dns-packet spells it (labels joined by dots, "." for the root), or null
 * to decline: a non-ASCII label, a dot inside a label of a `mailbox` name, and whatever
 * dns-packet rejects (a pointer that does not point backwards, a bad label, a name longer than
 * 254 bytes, the buffer's end).
 */
function readName(buf: Uint8Array, off: number, mailbox = false): string | null {
  const text = readSuffix(buf, off, off, mailbox, 0);
  if (text === null || suffixLength > 254) return null;
  return text === "" ? "." : text;
}

/**
 * The labels from `off` joined by dots ("" for the root), following pointers, each of which must
 * point before `segmentStart`, the start of the run of labels it ends (as dns-packet checks it).
 * Sets `nameEnd` for the outermost call and `suffixLength`. A chain of more than MAX_HOPS
 * pointers declines (dns-packet follows it in a loop; this recursion must stay shallow).
 */
function readSuffix(
  buf: Uint8Array,
  off: number,
  segmentStart: number,
  mailbox: boolean,
  hops: number,
): string | null {
  const len = buf.length;
  let text = "";
  let wire = 0;
  for (;;) {
    if (off >= len) return null;
    const n = buf[off++];
    if (n === 0) {
      nameEnd = off;
      suffixLength = wire;
      return text;
    }
    if ((n & 0xc0) === 0xc0) {
      if (off >= len) return null;
      const target = ((n & 0x3f) << 8) | buf[off++];
      if (target >= segmentStart || hops === MAX_HOPS) return null;
      const end = off;
      const rest = pointedName(buf, target, mailbox, hops + 1);
      if (rest === null) return null;
      nameEnd = end;
      suffixLength += wire;
      if (suffixLength > 254) return null;
      if (rest === "") return text;
      return text === "" ? rest : `${text}.${rest}`;
    }
    if (n > 63 || off + n > len) return null;
    wire += n + 1;
    if (wire > 254) return null;
    if (text !== "") text += ".";
    for (let i = off; i < off + n; i++) {
      const c = buf[i];
      if (c >= 0x80 || (mailbox && c === 0x2e)) return null;
      text += String.fromCharCode(c);
    }
    off += n;
  }
}

/**
 * The name a pointer to `target` leads to, from this message's list when read before (not for a
 * mailbox: the list's names may hold dotted labels, which a mailbox read must decline).
 */
function pointedName(
  buf: Uint8Array,
  target: number,
  mailbox: boolean,
  hops: number,
): string | null {
  for (let i = 0; i < suffixCount && !mailbox; i++) {
    if (suffixAt[i] === target) {
      suffixLength = suffixWire[i];
      return suffixText[i];
    }
  }
  const text = readSuffix(buf, target, target, mailbox, hops);
  if (text === null) return null;
  // A mailbox read declines dotted labels, so what it read is right for every other read too.
  if (suffixCount < SUFFIXES) {
    suffixAt[suffixCount] = target;
    suffixText[suffixCount] = text;
    suffixWire[suffixCount] = suffixLength;
    suffixCount++;
  }
  return text;
}
