/** EDNS and size handling of replies: the OPT echo and UDP truncation. */
import {
  type DnsMessage,
  type DnsRecord,
  encode,
  Flag,
  type OptRecord,
  rcodeOf,
} from "./message.ts";

/** The UDP payload size we advertise in our own OPT (the DNS flag day 2020 value). */
export const ADVERTISED_UDP_SIZE = 1232;

/**
 * Puts exactly one OPT of ours in `reply` when the request had EDNS (DO copied from the request,
 * extended rcode kept), and none when it had not: upstream or plugin OPTs never leak through.
 */
export function finishEdns(reply: DnsMessage, requestOpt: OptRecord | undefined): void {
  const rcode = rcodeOf(reply);
  const additionals: DnsRecord[] = reply.additionals.some((r) => r.type === "OPT")
    ? reply.additionals.filter((r) => r.type !== "OPT")
    : reply.additionals;
  if (requestOpt) {
    additionals.push({
      type: "OPT",
      name: ".",
      udpPayloadSize: ADVERTISED_UDP_SIZE,
      extendedRcode: rcode >> 4,
      ednsVersion: 0,
      flags: requestOpt.flags & 0x8000,
      options: [],
    });
  }
  reply.additionals = additionals;
}

/**
 * Encodes `reply`, truncating it to `maxSize` bytes if needed: records are dropped from the end
 * (additional, then authority, then answer) and TC is set, as CoreDNS's Truncate does. The OPT
 * record is always kept so the client still sees our EDNS.
 */
export function encodeWithin(reply: DnsMessage, maxSize: number): Uint8Array {
  const wire = encode(reply);
  if (wire.length <= maxSize) return wire;

  const opt = reply.additionals.filter((r) => r.type === "OPT");
  const sections = [
    reply.answers,
    reply.authorities,
    reply.additionals.filter((r) => r.type !== "OPT"),
  ];
  const total = sections.reduce((n, s) => n + s.length, 0);
  const build = (keep: number): DnsMessage => {
    let left = keep;
    const take = <T>(s: T[]): T[] => {
      const n = Math.min(left, s.length);
      left -= n;
      return s.slice(0, n);
    };
    const answers = take(sections[0]);
    const authorities = take(sections[1]);
    const additionals: DnsRecord[] = [...take(sections[2]), ...opt];
    return { ...reply, flags: reply.flags | Flag.TC, answers, authorities, additionals };
  };
  // Binary search for the most records that fit.
  let lo = 0;
  let hi = total - 1;
  let best = encode(build(0));
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const candidate = encode(build(mid));
    if (candidate.length <= maxSize) {
      best = candidate;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
