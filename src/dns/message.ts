/**
 * The DNS message model every plugin works with, and the codec behind it.
 *
 * Messages are the objects `dns-packet` encodes and decodes; this module gives them types (record
 * data by record type) and keeps the opcode and rcode arithmetic, EDNS bits included, in one place.
 * The fast paths handle what a server answering from memory sees and what upstreams answer nearly
 * always; dns-packet (codec_full.ts) is loaded only when something needs it, because the npm layer
 * it brings costs about 10 MB.
 */
import { decodeFast } from "./decode_fast.ts";
import { decodeReplyFast } from "./decode_reply.ts";
import { encodeFast } from "./encode_fast.ts";

/** Response codes, including the EDNS extended BADVERS. */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

/** Names for rcodes as CoreDNS logs them. */
export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  16: "BADVERS",
};

/** Header flag bits (the `flags` field), as on the wire. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Opcodes we act on. */
export const Opcode = { QUERY: 0, NOTIFY: 4 } as const;

/** One question. `name` is as `dns-packet` gives it: no trailing dot. */
export interface Question {
  name: string;
  type: string;
  class?: string;
}

/** SOA record data. */
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** SRV record data. */
export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** MX record data. */
export interface MxData {
  preference: number;
  exchange: string;
}

/** TXT record data: its character strings (dns-packet decodes each as bytes, encodes either). */
export type TxtData = (string | Uint8Array)[];

/**
 * Record data by record type, for the types etcdns makes or reads. Addresses are presentation
 * strings ("192.0.2.1", "2001:db8::1"); names are as dns-packet spells them (no trailing dot
 * needed).
 */
export interface RecordDataByType {
  A: string;
  AAAA: string;
  NS: string;
  CNAME: string;
  PTR: string;
  DNAME: string;
  MX: MxData;
  SOA: SoaData;
  SRV: SrvData;
  TXT: TxtData;
}

/** A record type whose data has a type of its own here. */
export type KnownType = keyof RecordDataByType;

/**
 * Every other record type dns-packet names when it decodes (its table, less OPT, which is an
 * OptRecord, and UNKNOWN_<code>): none of the known names, so that comparing `type` narrows.
 */
export type OtherType =
  | "AFSDB"
  | "ANY"
  | "APL"
  | "AXFR"
  | "CAA"
  | "CDNSKEY"
  | "CDS"
  | "CERT"
  | "DHCID"
  | "DLV"
  | "DNSKEY"
  | "DS"
  | "HINFO"
  | "HIP"
  | "IPSECKEY"
  | "IXFR"
  | "KEY"
  | "KX"
  | "LOC"
  | "NAPTR"
  | "NSEC"
  | "NSEC3"
  | "NSEC3PARAM"
  | "NULL"
  | "RP"
  | "RRSIG"
  | "SIG"
  | "SPF"
  | "SSHFP"
  | "TA"
  | "TKEY"
  | "TLSA"
  | "TSIG"
  | `UNKNOWN_${number}`;

/** What every resource record has besides its type and data. */
interface RecordHeader {
  name: string;
  class?: string;
  ttl?: number;
  flush?: boolean;
}

/** A record of the known type `T`, with its data typed. */
export interface RecordOf<T extends KnownType> extends RecordHeader {
  type: T;
  data: RecordDataByType[T];
}

/**
 * A record of any other type, as dns-packet decoded it (from an upstream reply): `data` is
 * whatever dns-packet made of it (often a Uint8Array), so it must be narrowed before use.
 */
export interface OtherRecord extends RecordHeader {
  type: OtherType;
  data: unknown;
}

/**
 * A resource record (not OPT): a union discriminated by `type`, so that `rr.type === "MX"`
 * gives `rr.data` as MxData.
 */
export type ResourceRecord = { [T in KnownType]: RecordOf<T> }[KnownType] | OtherRecord;

/** An EDNS option (code and raw data). */
export interface EdnsOption {
  code: number;
  data?: Uint8Array;
  [key: string]: unknown;
}

/** An OPT pseudo-record. */
export interface OptRecord {
  type: "OPT";
  name: ".";
  udpPayloadSize: number;
  extendedRcode: number;
  ednsVersion: number;
  flags: number;
  flag_do?: boolean;
  options: EdnsOption[];
}

/** Any record in a message section. */
export type DnsRecord = ResourceRecord | OptRecord;

/** A DNS message. `flags` carries every header bit and the low four rcode bits. */
export interface DnsMessage {
  id: number;
  type?: "query" | "response";
  flags: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: DnsRecord[];
}

/** The whole codec, for what the fast paths decline: dns-packet, through codec_full.ts. */
export interface FullCodec {
  /** Decodes any message; throws on malformed input. */
  decode(bytes: Uint8Array): DnsMessage;
  /** Encodes any message dns-packet can, with names compressed; throws on what it cannot. */
  encode(msg: DnsMessage): Uint8Array;
}

let full: FullCodec | null = null;

/** Makes `codec` the slow path of decode() and encode(); codec_full.ts calls it when loaded. */
export function installFullCodec(codec: FullCodec): void {
  full = codec;
}

/**
 * Thrown by decode() and encode() when the fast path declines and the whole codec is not loaded
 * yet: the caller awaits loadFullCodec() and tries again. forward, which handles upstream replies
 * of any type, awaits loadFullCodec() before its first exchange.
 */
export class FullCodecNotLoaded extends Error {
  constructor() {
    super("the full DNS codec is not loaded yet");
    this.name = "FullCodecNotLoaded";
  }
}

/** Loads the whole codec (dns-packet); decode() and encode() then never throw FullCodecNotLoaded. */
export async function loadFullCodec(): Promise<void> {
  if (full === null) await import("./codec_full.ts");
}

/**
 * Decodes wire bytes; throws on malformed input, and FullCodecNotLoaded when the message needs
 * dns-packet and it is not loaded.
 */
export function decode(bytes: Uint8Array): DnsMessage {
  // Plain queries, and replies of the common types, skip dns-packet (and the Buffer it needs);
  // the result is the same.
  const fast = decodeFast(bytes) ?? decodeReplyFast(bytes);
  if (fast !== null) return fast;
  if (full === null) throw new FullCodecNotLoaded();
  return full.decode(bytes);
}

/**
 * Encodes a message to wire bytes, with names compressed. dns-packet's decoder reads back exactly
 * `msg`: tests/dns/encode_fast_test.ts checks it on random and mutated messages. Throws
 * FullCodecNotLoaded as decode() does.
 */
export function encode(msg: DnsMessage): Uint8Array {
  // Common record types skip dns-packet.
  const fast = encodeFast(msg);
  if (fast !== null) return fast;
  if (full === null) throw new FullCodecNotLoaded();
  return full.encode(msg);
}

/** Returns the opcode of a message. */
export function opcodeOf(msg: DnsMessage): number {
  return (msg.flags >> 11) & 0xf;
}

/** Returns the full rcode, including the extended bits carried in OPT. */
export function rcodeOf(msg: DnsMessage): number {
  const opt = optOf(msg);
  return (msg.flags & 0xf) | ((opt?.extendedRcode ?? 0) << 4);
}

/** Sets the rcode; an extended rcode (>15) is stored in OPT, which must then be present. */
export function setRcode(msg: DnsMessage, rcode: number): void {
  msg.flags = (msg.flags & ~0xf) | (rcode & 0xf);
  const opt = optOf(msg);
  if (opt) opt.extendedRcode = rcode >> 4;
}

/** The OPT record of a message, if any. */
export function optOf(msg: DnsMessage): OptRecord | undefined {
  // Indexed: a for-of here allocated an iterator per call, two or three calls per query.
  const additionals = msg.additionals;
  for (let i = 0; i < additionals.length; i++) {
    const r = additionals[i];
    if (r.type === "OPT") return r;
  }
  return undefined;
}

/**
 * A reply skeleton for `request`: same id, opcode, RD and CD bits and question, with `rcode`.
 * Plugins fill the sections and set AA where they are authoritative.
 */
export function replyTo(request: DnsMessage, rcode: number = Rcode.NOERROR): DnsMessage {
  const keep = request.flags & (Flag.RD | Flag.CD | (0xf << 11));
  return {
    id: request.id,
    type: "response",
    flags: keep | Flag.QR | (rcode & 0xf),
    questions: request.questions,
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/**
 * Recent `fqdn` results. Query names repeat, and a remembered result is one string with its hash
 * already computed, so the map lookups that follow (zones, hosts, cache) cost no new string.
 * Bounded: it starts over when full.
 */
const fqdnMemo = new Map<string, string>();
const FQDN_MEMO_SIZE = 4096;

/** Lowercases a name and makes it fully qualified (trailing dot); "" and "." give ".". */
export function fqdn(name: string): string {
  const known = fqdnMemo.get(name);
  if (known !== undefined) return known;
  if (name === "" || name === ".") return ".";
  const lower = name.toLowerCase();
  const full = lower.endsWith(".") ? lower : lower + ".";
  if (fqdnMemo.size >= FQDN_MEMO_SIZE) fqdnMemo.clear();
  fqdnMemo.set(name, full);
  return full;
}

/** Whether `name` equals `zone` or lies under it. Both must be lowercased FQDNs. */
export function inZone(name: string, zone: string): boolean {
  if (zone === ".") return true;
  return name === zone || (name.endsWith(zone) && name[name.length - zone.length - 1] === ".");
}

/** The longest zone of `zones` that contains `name`, or undefined. */
export function matchZone(name: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if (inZone(name, z) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}
