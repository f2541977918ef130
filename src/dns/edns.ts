/** EDNS and size handling of replies: the OPT echo and UDP truncation. */
import { Buffer } from "node:buffer";
import {
  type DnsMessage,
  type DnsRecord,
  type EdnsOption,
  encode,
  Flag,
  type OptRecord,
  rcodeOf,
} from "./message.ts";

/** The UDP payload size we advertise in our own OPT (the DNS flag day 2020 value). */
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
    options: [{ code: EDE_OPTION, data: Buffer.from([infoCode >> 8, infoCode & 0xff]) }],
  };
}

/**
 * Puts exactly one OPT of ours in `reply` when the request had EDNS (DO copied from the request,
 * extended rcode kept), and none when it had not: upstream or plugin OPTs never leak through,
 * except their Extended DNS Errors (RFC 8914), which are for the client.
 */
export function finishEdns(reply: DnsMessage, requestOpt: OptRecord | undefined): void {
  const rcode = rcodeOf(reply);
  const ede = requestOpt ? extendedErrorsOf(reply) : [];
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
      options: ede,
    });
  }
  reply.additionals = additionals;
}

function extendedErrorsOf(reply: DnsMessage): EdnsOption[] {
  for (const r of reply.additionals) {
    if (r.type === "OPT") return (r as OptRecord).options.filter((o) => o.code === EDE_OPTION);
  }
  return [];
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
