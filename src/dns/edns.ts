/** EDNS and size handling of replies: the OPT echo and UDP truncation. */
import { type DnsMessage, type EdnsOption, encode, type OptRecord, rcodeOf } from "./message.ts";
import { truncateWire } from "./compress.ts";

/**
 * The UDP payload size we advertise in our own OPT by default (the DNS flag day 2020 value),
 * and the most we send over UDP; the `bufsize` plugin changes both per server block.
 */
export const ADVERTISED_UDP_SIZE = 1232;

/** The EDNS option code of an Extended DNS Error (RFC 8914). */
export const EDE_OPTION = 15;

/** Extended DNS Error info codes that etcdns sends (RFC 8914, section 4). */
export const EdeCode = { BLOCKED: 15, FILTERED: 17 } as const;

/** An OPT carrying one Extended DNS Error with no extra text, for `finishEdns` to keep. */
export function extendedError(infoCode: number): OptRecord {
  return {
    type: "OPT",
    name: ".",
    udpPayloadSize: ADVERTISED_UDP_SIZE,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    options: [{ code: EDE_OPTION, data: new Uint8Array([infoCode >> 8, infoCode & 0xff]) }],
  };
}

/**
 * Puts exactly one OPT of ours in `reply` when the request had EDNS (DO copied from the request,
 * extended rcode kept), and none when it had not: upstream or plugin OPTs never leak through,
 * except their Extended DNS Errors (RFC 8914), which are for the client. The OPT's size echoes
 * the client's (at least 512), capped at `maxSize` (the block's `bufsize`, when it has one), as CoreDNS's
 * SizeAndDo does.
 */
export function finishEdns(
  reply: DnsMessage,
  requestOpt: OptRecord | undefined,
  maxSize: number = ADVERTISED_UDP_SIZE,
): void {
  const rcode = rcodeOf(reply);
  // This runs for every reply: the common one (no OPT yet) makes no closure and no copy.
  let additionals = reply.additionals;
  let ede: EdnsOption[] | null = null;
  for (let i = 0; i < additionals.length; i++) {
    const r = additionals[i];
    if (r.type === "OPT") {
      if (requestOpt) ede = r.options.filter((o) => o.code === EDE_OPTION);
      additionals = additionals.filter((a) => a.type !== "OPT");
      break;
    }
  }
  if (requestOpt) {
    const opt: OptRecord = {
      type: "OPT",
      name: ".",
      udpPayloadSize: Math.min(Math.max(512, requestOpt.udpPayloadSize), maxSize),
      extendedRcode: rcode >> 4,
      ednsVersion: 0,
      flags: requestOpt.flags & 0x8000,
      options: ede ?? [],
    };
    // A push onto an empty array reserves room for 17; a literal holds just the one.
    if (additionals.length === 0) additionals = [opt];
    else additionals.push(opt);
  }
  reply.additionals = additionals;
}

/**
 * Encodes `reply` in at most `maxSize` bytes: as many whole records as fit (answers, then
 * authorities, then additionals) and the OPT record, always kept so the client still sees our
 * EDNS. TC is set only when an answer or authority record was cut; dropping additionals alone
 * does not set it (RFC 2181 9). One encoding, then a cut at a record boundary: no re-encoding.
 */
export function encodeWithin(reply: DnsMessage, maxSize: number): Uint8Array {
  const extra = reply.additionals;
  const last = extra.length - 1;
  // The cut keeps the last record when it is the OPT; put the OPT there (finishEdns does).
  let optAt = -1;
  if (last >= 0 && extra[last].type !== "OPT") {
    for (let i = 0; i < last; i++) if (extra[i].type === "OPT") optAt = i;
  }
  const msg = optAt < 0 ? reply : {
    ...reply,
    additionals: [...extra.slice(0, optAt), ...extra.slice(optAt + 1), extra[optAt]],
  };
  return truncateWire(encode(msg), maxSize);
}
