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
  /** The reply's AA, RA and AD bits. */
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

/** The cache key: qtype, qclass, DO and CD bits, and the lowercased qname. */
export function cacheKey(q: QueryContext): string {
  const bits = (q.do ? 1 : 0) | ((q.request.flags & Flag.CD) !== 0 ? 2 : 0);
  return `${q.qtype} ${q.qclass} ${bits} ${q.qname}`;
}

/** Seconds of life an entry has left; negative once expired. */
export function remaining(e: Entry, now: number): number {
  // A clock reading from before the store (a query's start time) must not add a second.
  return e.ttl - Math.floor(Math.max(0, now - e.stored) / 1000);
}

/** The TTL bounds a reply's lifetime is held within, by where it would be kept. */
export interface TtlBounds {
  success: { minTtl: number; maxTtl: number };
  denial: { minTtl: number; maxTtl: number };
  servfailTtl: number;
}

/**
 * What CoreDNS 1.15's cache makes of a reply: where it is kept (null: nowhere) and its lifetime
 * in seconds, which also becomes the TTL of every record the client gets, kept or not. NOERROR
 * with an empty answer is kept (5 s when it carries no record: it may hold its data elsewhere,
 * as whoami's does); NXDOMAIN needs an SOA; an answer that does not answer the question (a CNAME
 * chain that stops short) is a denial with an SOA, else not kept, so the next query asks again.
 * Delegations and replies of no cacheable type live CoreDNS's 5 s floor.
 */
export function judge(
  reply: DnsMessage,
  bounds: TtlBounds,
): { kind: Kind | "servfail" | null; ttl: number } {
  const within = (ttl: number, b: { minTtl: number; maxTtl: number }) =>
    Math.min(Math.max(ttl, b.minTtl), b.maxTtl);
  const success = (ttl: number, kept: boolean) => ({
    kind: kept ? "success" as const : null,
    ttl: within(ttl, bounds.success),
  });
  const denial = () => ({
    kind: "denial" as const,
    ttl: within(minimalTtl(reply, bounds.denial.maxTtl), bounds.denial),
  });
  const kept = (reply.flags & Flag.TC) === 0;
  if (opcodeOf(reply) !== Opcode.QUERY) return success(MINIMAL_DEFAULT_TTL, false);
  const rcode = rcodeOf(reply);
  let soa = false;
  let ns = false;
  for (const r of reply.authorities) {
    if (r.type === SOA) soa = true;
    else if (r.type === "NS") ns = true;
  }
  if (reply.answers.length > 0) {
    if (rcode !== Rcode.NOERROR) return success(MINIMAL_DEFAULT_TTL, false);
    if (answersQuestion(reply)) return success(minimalTtl(reply, bounds.success.maxTtl), kept);
    if (soa) return kept ? denial() : { ...denial(), kind: null };
    return success(minimalTtl(reply, bounds.success.maxTtl), false);
  }
  if (soa && (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN)) {
    return kept ? denial() : { ...denial(), kind: null };
  }
  if (rcode === Rcode.SERVFAIL || rcode === Rcode.NOTIMP) {
    return { kind: kept ? "servfail" : null, ttl: bounds.servfailTtl };
  }
  if (rcode !== Rcode.NOERROR) return success(MINIMAL_DEFAULT_TTL, false);
  if (ns) return success(MINIMAL_DEFAULT_TTL, kept); // a delegation
  return success(minimalTtl(reply, bounds.success.maxTtl), kept);
}

/**
 * Whether the answer section answers the question: a record of the asked type (any type for ANY)
 * at the end of the CNAME chain from the question's name; a CNAME question wants the CNAME. A
 * chain that forks or loops answers nothing.
 */
function answersQuestion(reply: DnsMessage): boolean {
  const question = reply.questions[0];
  if (question === undefined) return false;
  const anyClass = question.class === "ANY";
  const answers = reply.answers.filter((r) =>
    anyClass || (r.class ?? "IN") === (question.class ?? "IN")
  );
  let name = canonical(question.name);
  if (question.type === "ANY") return answers.some((r) => canonical(r.name) === name);
  const seen = new Set<string>();
  for (;;) {
    const target = cnameTarget(answers, name);
    if (target === undefined) return false; // forked chain
    if (question.type === "CNAME") return target !== null;
    if (target === null) break;
    seen.add(name);
    name = target;
    if (seen.has(name)) return false; // loop
  }
  return answers.some((r) => r.type === question.type && canonical(r.name) === name);
}

/** The one target `owner`'s CNAMEs name; null without a CNAME, undefined when they disagree. */
function cnameTarget(answers: readonly ResourceRecord[], owner: string): string | null | undefined {
  let target: string | null = null;
  for (const r of answers) {
    if (r.type !== "CNAME" || canonical(r.name) !== owner) continue;
    const t = canonical(r.data);
    if (target !== null && target !== t) return undefined;
    target = t;
  }
  return target;
}

function canonical(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
}

/**
 * The lowest TTL in the reply (OPT excluded), at most `maximum`; a reply with no records at all
 * gets CoreDNS's 5 s. (CoreDNS reads the SOA's TTL, not its MINIMUM, for a denial.)
 */
export function minimalTtl(reply: DnsMessage, maximum: number): number {
  let min = maximum;
  let records = 0;
  const scan = (rrs: readonly DnsRecord[]) => {
    for (const r of rrs) {
      if (r.type === "OPT") continue;
      records++;
      const ttl = r.ttl ?? 0;
      if (ttl < min) min = ttl;
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
 * `rrs` with every TTL set to `ttl`, as CoreDNS's cache writes replies. Records are replaced, not
 * changed: the plugin that made them may hold them in its own data.
 */
export function setTtls<T extends DnsRecord>(rrs: T[], ttl: number): T[] {
  return rrs.map((r) => r.type !== "OPT" && (r as ResourceRecord).ttl !== ttl ? { ...r, ttl } : r);
}

export function withTtl(rrs: readonly ResourceRecord[], ttl: number): ResourceRecord[] {
  const out = new Array<ResourceRecord>(rrs.length);
  for (let i = 0; i < rrs.length; i++) out[i] = { ...rrs[i], ttl };
  return out;
}

/**
 * A reply to `q` built from `e`: the request's ID, opcode, RD, CD and question, the entry's rcode,
 * AA, RA and AD (AD only for a client that asked for DNSSEC): CoreDNS 1.15's cache keeps the
 * upstream's AA (1.14 set it on every hit); and every record with `ttl`.
 */
export function toReply(e: Entry, q: QueryContext, ttl: number): DnsMessage {
  const req = q.request;
  let flags = Flag.QR | (req.flags & (Flag.RD | Flag.CD | (0xf << 11))) | (e.rcode & 0xf) |
    (e.flags & (Flag.RA | Flag.AA));
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
