/** EDNS and size handling of replies: the OPT echo and UDP truncation. */
import { type DnsMessage, type DnsRecord, encode, type OptRecord, rcodeOf } from "./message.ts";
import { truncateWire } from "./wire.ts";

/**
 * The UDP payload size we advertise in our own OPT by default (the DNS flag day 2020 value),
 * and the most we send over UDP; the `bufsize` plugin changes both per server block.
 */
export const ADVERTISED_UDP_SIZE = 1232;

/**
 * Puts exactly one OPT of ours in `reply` when the request had EDNS (DO copied from the request,
 * extended rcode kept), and none when it had not: upstream or plugin OPTs never leak through.
 */
export function finishEdns(
  reply: DnsMessage,
  requestOpt: OptRecord | undefined,
  advertised: number = ADVERTISED_UDP_SIZE,
): void {
  const rcode = rcodeOf(reply);
  const additionals: DnsRecord[] = reply.additionals.some((r) => r.type === "OPT")
    ? reply.additionals.filter((r) => r.type !== "OPT")
    : reply.additionals;
  if (requestOpt) {
    additionals.push({
      type: "OPT",
      name: ".",
      udpPayloadSize: advertised,
      extendedRcode: rcode >> 4,
      ednsVersion: 0,
      flags: requestOpt.flags & 0x8000,
      options: [],
    });
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
