/**
 * What the cache keeps and how long: the entry, its key, which replies are cacheable (CoreDNS's
 * Typify), their TTL, and the reply rebuilt from an entry for each hit.
 */
import {
  type DnsMessage,
  type DnsRecord,
  Flag,
  Opcode,
  opcodeOf,
  Rcode,
  rcodeOf,
  type ResourceRecord,
} from "../../dns/message.ts";
import type { QueryContext } from "../../plugin/query.ts";

/** The two caches, as CoreDNS names them. */
export type Kind = "success" | "denial";

/** One cached reply. Its sections are private copies, never written to a client as they are. */
export interface Entry {
  readonly kind: Kind;
  readonly rcode: number;
  /** The reply's RA and AD bits. */
  readonly flags: number;
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
  /** The lifetime the entry got, in seconds. */
  readonly ttl: number;
  /** When it was stored (the cache's clock). */
  readonly stored: number;
  /** Prefetch bookkeeping: hits without a gap longer than prefetchGapMs, and the last one. */
  hits: number;
  lastHit: number;
}

const SOA = "SOA";
/** CoreDNS's floor for replies that carry no TTL at all. */
const MINIMAL_DEFAULT_TTL = 5;
/** CoreDNS's ceiling for any TTL. */
const MAXIMUM_DEFAULT_TTL = 3600;

/** The cache key: qtype, qclass, DO and CD bits, and the lowercased qname. */
export function cacheKey(q: QueryContext): string {
  const bits = (q.do ? 1 : 0) | ((q.request.flags & Flag.CD) !== 0 ? 2 : 0);
  return `${q.qtype} ${q.qclass} ${bits} ${q.qname}`;
}

/** Seconds of life an entry has left; negative once expired. */
export function remaining(e: Entry, now: number): number {
  return e.ttl - Math.floor((now - e.stored) / 1000);
}

/** Which cache a reply belongs in, or null if it must not be cached (CoreDNS's Typify). */
export function classify(reply: DnsMessage): Kind | "servfail" | null {
  if ((reply.flags & Flag.TC) !== 0 || opcodeOf(reply) !== Opcode.QUERY) return null;
  const rcode = rcodeOf(reply);
  if (rcode === Rcode.NOERROR && reply.answers.length > 0) return "success";
  let soa = false;
  let ns = false;
  for (const r of reply.authorities) {
    if (r.type === SOA) soa = true;
    else if (r.type === "NS") ns = true;
  }
  if (soa && (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN)) return "denial";
  if (rcode === Rcode.SERVFAIL || rcode === Rcode.NOTIMP) return "servfail";
  if (ns && rcode === Rcode.NOERROR) return "success"; // a delegation
  // NOERROR with nothing, or NXDOMAIN without an SOA: no TTL to trust, so not cached.
  return null;
}

/**
 * The lowest TTL in the reply (OPT excluded), at most an hour; for a denial, also the SOA's
 * MINIMUM (RFC 2308). A reply with no records at all gets CoreDNS's 5 s.
 */
export function minimalTtl(reply: DnsMessage, kind: Kind): number {
  let min = MAXIMUM_DEFAULT_TTL;
  let records = 0;
  const scan = (rrs: readonly DnsRecord[]) => {
    for (const r of rrs) {
      if (r.type === "OPT") continue;
      records++;
      const ttl = r.ttl ?? 0;
      if (ttl < min) min = ttl;
      if (kind === "denial" && r.type === SOA && r.data.minimum < min) min = r.data.minimum;
    }
  };
  scan(reply.answers);
  scan(reply.authorities);
  scan(reply.additionals);
  return records === 0 ? MINIMAL_DEFAULT_TTL : min;
}

export function copyRecord(r: ResourceRecord): ResourceRecord {
  return { ...r };
}

export function isNotOpt(r: DnsRecord): r is ResourceRecord {
  return r.type !== "OPT";
}

/**
 * `rrs` with every TTL above `ttl` lowered to it. Records are replaced, not changed: the plugin
 * that made them may hold them in its own data.
 */
export function capTtls<T extends DnsRecord>(rrs: T[], ttl: number): T[] {
  return rrs.map((r) =>
    r.type !== "OPT" && ((r as ResourceRecord).ttl ?? 0) > ttl ? { ...r, ttl } : r
  );
}

export function withTtl(rrs: readonly ResourceRecord[], ttl: number): ResourceRecord[] {
  const out = new Array<ResourceRecord>(rrs.length);
  for (let i = 0; i < rrs.length; i++) out[i] = { ...rrs[i], ttl };
  return out;
}

/**
 * A reply to `q` built from `e`: the request's ID, opcode, RD, CD and question, the entry's rcode,
 * RA and AD (AD only for a client that asked for DNSSEC), AA set as CoreDNS's cache sets it on
 * every reply it serves, and every record with `ttl`.
 */
export function toReply(e: Entry, q: QueryContext, ttl: number): DnsMessage {
  const req = q.request;
  let flags = Flag.QR | (req.flags & (Flag.RD | Flag.CD | (0xf << 11))) | (e.rcode & 0xf) |
    (e.flags & Flag.RA) | Flag.AA;
  if ((e.flags & Flag.AD) !== 0 && (q.do || (req.flags & Flag.AD) !== 0)) flags |= Flag.AD;
  return {
    id: req.id,
    type: "response",
    flags,
    questions: req.questions,
    answers: withTtl(e.answers, ttl),
    authorities: withTtl(e.authorities, ttl),
    additionals: withTtl(e.additionals, ttl),
  };
}
