/**
 * The whole codec: dns-packet, for what the fast paths (decode_fast.ts, encode_fast.ts) decline,
 * such as upstream replies of any record type. Importing this module installs it as the slow
 * path of message.ts's decode() and encode(): forward and cache import it, and a server without
 * them loads it (loadFullCodec) at the first message that needs it.
 */
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { compressWire } from "./compress.ts";
import { type DnsMessage, type DnsRecord, Flag, installFullCodec } from "./message.ts";

/**
 * dns-packet's codec, typed at this one boundary: it ships no declarations. What it decodes has
 * the shapes message.ts declares (each known type's data as RecordDataByType says; any other type
 * is an OtherRecord), and it encodes all of them.
 */
const packet: {
  decode(buf: Buffer): Omit<Partial<DnsMessage>, "id" | "flags"> & { id: number; flags: number };
  encode(msg: DnsMessage): Uint8Array;
} = dnsPacket;

/** Decodes any message with dns-packet; throws on malformed input. */
export function decodeFull(bytes: Uint8Array): DnsMessage {
  const m = packet.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return {
    id: m.id,
    type: m.type,
    // dns-packet reports QR as `type` and masks it out of `flags`; put it back, so that `flags`
    // carries every header bit (a decoded upstream reply re-encodes as a response).
    flags: m.flags | (m.type === "response" ? Flag.QR : 0),
    questions: m.questions ?? [],
    answers: m.answers ?? [],
    authorities: m.authorities ?? [],
    additionals: m.additionals ?? [],
  };
}

/**
 * Encodes any message dns-packet can, then compresses its owner names (dns-packet does not
 * compress).
 */
export function encodeFull(msg: DnsMessage): Uint8Array {
  // dns-packet derives QR from `type`; keep the two in agreement.
  const type = (msg.flags & Flag.QR) !== 0 ? "response" : "query";
  return compressWire(packet.encode({
    ...msg,
    type,
    answers: withBuffers(msg.answers),
    authorities: withBuffers(msg.authorities),
    additionals: withBuffers(msg.additionals),
  }));
}

/**
 * The records with their EDNS options' data as Buffers: dns-packet copies it with Buffer's
 * copy(), and the fast decoder and etcdns's own options hold plain Uint8Arrays.
 */
function withBuffers<T extends DnsRecord>(records: T[]): T[] {
  if (!Array.isArray(records) || !records.some((r) => r?.type === "OPT")) return records;
  return records.map((r) => {
    if (r?.type !== "OPT" || !Array.isArray(r.options)) return r;
    const options = r.options.map((o) =>
      o?.data instanceof Uint8Array && !Buffer.isBuffer(o.data)
        ? { ...o, data: Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength) }
        : o
    );
    return { ...r, options };
  });
}

installFullCodec({ decode: decodeFull, encode: encodeFull });
