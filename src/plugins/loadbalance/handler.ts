/**
 * loadbalance: shuffles address records in replies, as CoreDNS's loadbalance `round_robin`.
 *
 * After the rest of the chain has answered, A and AAAA (and MX) records of a NOERROR reply are
 * put in random order. CNAMEs are moved first, because some stub resolvers (glibc) expect the
 * chain before the addresses it leads to.
 */
import { type DnsRecord, Rcode, rcodeOf } from "../../dns/message.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";

/** A loadbalance directive, validated. */
export interface LoadbalanceConfig {
  /** Keep at most this many answer records after shuffling (0: keep all). */
  limitAnswers: number;
}

/** The loadbalance plugin instance of one server block. */
export class Loadbalance implements Plugin {
  readonly name = "loadbalance";

  constructor(readonly config: LoadbalanceConfig) {}

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    // Synchronous when the rest of the chain is: no promise on the common path.
    const result = next();
    if (result !== undefined && typeof result !== "number") {
      return result.then((r) => this.#balance(q, r));
    }
    return this.#balance(q, result);
  }

  #balance(q: QueryContext, result: HandlerResult): HandlerResult {
    const reply = q.response;
    if (reply === null || rcodeOf(reply) !== Rcode.NOERROR) return result;
    if (q.qtype === "AXFR" || q.qtype === "IXFR") return result;
    reply.answers = roundRobin(reply.answers);
    reply.authorities = roundRobin(reply.authorities);
    reply.additionals = roundRobin(reply.additionals);
    const limit = this.config.limitAnswers;
    if (limit > 0 && reply.answers.length > limit) reply.answers = reply.answers.slice(0, limit);
    return result;
  }
}

/** Reorders one section: CNAMEs, then other records, then shuffled A/AAAA, then shuffled MX. */
export function roundRobin<T extends DnsRecord>(records: T[]): T[] {
  if (records.length <= 1) return records;
  const first = records[0].type;
  if ((first === "A" || first === "AAAA") && records.every((r) => r.type === first)) {
    shuffle(records);
    return records;
  }
  const cname: T[] = [];
  const address: T[] = [];
  const mx: T[] = [];
  const rest: T[] = [];
  for (const r of records) {
    if (r.type === "CNAME") cname.push(r);
    else if (r.type === "A" || r.type === "AAAA") address.push(r);
    else if (r.type === "MX") mx.push(r);
    else rest.push(r);
  }
  shuffle(address);
  shuffle(mx);
  return [...cname, ...rest, ...address, ...mx];
}

/** Fisher-Yates, in place. */
function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
