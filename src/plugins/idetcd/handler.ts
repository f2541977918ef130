/**
 * idetcd's answers: A/AAAA for every claimed name of the pattern and SRV for the configured
 * services, all from the watched in-memory view. An unclaimed name of the pattern gets an
 * authoritative NXDOMAIN whose synthetic SOA carries a short negative TTL, so a name claimed a
 * second later is not cached as missing for long.
 */
import { Flag, matchZone, Rcode, replyTo, type ResourceRecord } from "../../dns/message.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";
import type { Fallthrough } from "../../plugin/fallthrough.ts";
import type { Pattern } from "./pattern.ts";
import type { SlotRecord } from "./slots.ts";
import type { SlotLookup } from "./view.ts";

/** The negative TTL (SOA minimum and SOA TTL) of an unclaimed name, in seconds. */
export const NEGATIVE_TTL = 5;

/** One `srv _service._proto PORT` line: answered at `_service._proto.DOMAIN`. */
export interface SrvService {
  /** The owner name, lowercased FQDN, e.g. `_etcd-server._tcp.tf.local.`. */
  owner: string;
  port: number;
}

/** What the handler needs. */
export interface IdetcdHandlerConfig {
  zones: readonly string[];
  pattern: Pattern;
  view: SlotLookup;
  /** Answer TTL in seconds. */
  ttl: number;
  srv: readonly SrvService[];
  fallthrough: Fallthrough;
}

/** The idetcd plugin: answers for the pattern's names and SRV owners, passes the rest on. */
export class IdetcdPlugin implements Plugin {
  readonly name = "idetcd";
  readonly #c: IdetcdHandlerConfig;
  readonly #srv: Map<string, SrvService>;
  readonly #domain: string;

  constructor(config: IdetcdHandlerConfig) {
    this.#c = config;
    this.#srv = new Map(config.srv.map((s) => [s.owner, s]));
    this.#domain = config.pattern.domain;
  }

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    const qname = q.qname;
    if (matchZone(qname, this.#c.zones) === undefined) return next();
    const srv = this.#srv.get(qname);
    if (srv) return this.#answerSrv(q, srv);
    const record = this.#c.view.get(qname);
    if (record) return this.#answerName(q, record);
    if (this.#c.pattern.idOf(qname) === null) return next();
    if (this.#c.fallthrough.covers(qname)) return next();
    const reply = replyTo(q.request, Rcode.NXDOMAIN);
    reply.flags |= Flag.AA;
    reply.authorities.push(this.#soa());
    q.write(reply);
  }

  #answerName(q: QueryContext, r: SlotRecord): void {
    const reply = replyTo(q.request);
    reply.flags |= Flag.AA;
    const name = q.question.name;
    const ttl = this.#c.ttl;
    const v = r.value!;
    if ((q.qtype === "A" || q.qtype === "ANY") && v.ipv4) {
      reply.answers.push({ type: "A", name, class: "IN", ttl, data: v.ipv4 });
    }
    if ((q.qtype === "AAAA" || q.qtype === "ANY") && v.ipv6) {
      reply.answers.push({ type: "AAAA", name, class: "IN", ttl, data: v.ipv6 });
    }
    // The name exists; another type (or a family it lacks) is NODATA with the SOA.
    if (reply.answers.length === 0) reply.authorities.push(this.#soa());
    q.write(reply);
  }

  #answerSrv(q: QueryContext, srv: SrvService): void {
    const reply = replyTo(q.request);
    reply.flags |= Flag.AA;
    const ttl = this.#c.ttl;
    if (q.qtype === "SRV" || q.qtype === "ANY") {
      for (const r of this.#c.view.all()) {
        reply.answers.push({
          type: "SRV",
          name: q.question.name,
          class: "IN",
          ttl,
          data: { priority: 0, weight: 10, port: srv.port, target: r.name },
        });
        reply.additionals.push(...addressRecords(r, ttl));
      }
    }
    if (reply.answers.length === 0) reply.authorities.push(this.#soa());
    q.write(reply);
  }

  #soa(): ResourceRecord {
    const domain = this.#domain;
    const prefix = domain === "." ? "" : domain;
    return {
      type: "SOA",
      name: domain,
      class: "IN",
      ttl: NEGATIVE_TTL,
      data: {
        mname: `ns.dns.${prefix}`,
        rname: `hostmaster.${prefix}`,
        // The view's revision changes whenever a slot does, as a zone serial should.
        serial: this.#c.view.revision % 4294967296,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: NEGATIVE_TTL,
      },
    };
  }
}

function addressRecords(r: SlotRecord, ttl: number): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const v = r.value!;
  if (v.ipv4) out.push({ type: "A", name: r.name, class: "IN", ttl, data: v.ipv4 });
  if (v.ipv6) out.push({ type: "AAAA", name: r.name, class: "IN", ttl, data: v.ipv6 });
  return out;
}
