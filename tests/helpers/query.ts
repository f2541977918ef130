/** Building queries and decoding replies in tests. */
// Replies carry records the fast decoder declines: tests read them with the whole codec.
import "../../src/dns/codec_full.ts";
import { decode, type DnsMessage, encode, Flag, type OptRecord } from "../../src/dns/message.ts";

/** Options for `makeQuery`. */
export interface QueryOptions {
  id?: number;
  /** Adds an OPT with this UDP size. */
  edns?: number;
  do?: boolean;
  ednsVersion?: number;
  flags?: number;
}

/** A query message for `name`/`type`. */
export function queryMessage(name: string, type = "A", opts: QueryOptions = {}): DnsMessage {
  const additionals: OptRecord[] = opts.edns === undefined ? [] : [{
    type: "OPT",
    name: ".",
    udpPayloadSize: opts.edns,
    extendedRcode: 0,
    ednsVersion: opts.ednsVersion ?? 0,
    flags: opts.do ? 0x8000 : 0,
    options: [],
  }];
  return {
    id: opts.id ?? 4242,
    type: "query",
    flags: opts.flags ?? Flag.RD,
    questions: [{ name, type, class: "IN" }],
    answers: [],
    authorities: [],
    additionals,
  };
}

/** Wire bytes of a query. */
export function makeQuery(name: string, type = "A", opts: QueryOptions = {}): Uint8Array {
  return encode(queryMessage(name, type, opts));
}

/** Decodes a reply; the rcode is in `flags & 0xf`. */
export function parseReply(bytes: Uint8Array): DnsMessage {
  return decode(bytes);
}
