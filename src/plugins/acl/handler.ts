/**
 * acl: allows, blocks (REFUSED), filters (empty NOERROR) or drops (no reply) queries by source
 * address and query type, as CoreDNS's acl plugin. Rules are checked in order; in a rule whose
 * zones hold the name, the first policy that matches decides, and `allow` ends the check. A query
 * no policy matches is allowed.
 */
import { type DnsMessage, matchZone, Rcode, replyTo } from "../../dns/message.ts";
import { EdeCode, extendedError } from "../../dns/edns.ts";
import type { CounterHandle } from "../../metrics/registry.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";
import { type Address, type NetSet, parseAddress } from "../../plugin/netset.ts";
import { allowedRequests, blockedRequests, droppedRequests, filteredRequests } from "./metrics.ts";

/** What a policy does with the queries it matches. */
export type AclAction = "allow" | "block" | "filter" | "drop";

/** One `ACTION [type QTYPE...] [net SOURCE...]` line. */
export interface AclPolicy {
  readonly action: AclAction;
  /** The query types it matches; null matches every type (no `type`, or `type *`). */
  readonly qtypes: ReadonlySet<string> | null;
  /** The sources it matches (NetSet.ANY with no `net`, or `net *`). */
  readonly sources: NetSet;
}

/** One `acl` directive: the zones it guards and its policies, in order. */
export interface AclRule {
  readonly zones: readonly string[];
  readonly policies: readonly AclPolicy[];
}

/** The first policy of `policies` that matches the query, or null. */
export function matchPolicy(
  policies: readonly AclPolicy[],
  source: Address,
  qtype: string,
): AclPolicy | null {
  for (const p of policies) {
    if (p.qtypes !== null && !p.qtypes.has(qtype)) continue;
    if (!p.sources.has(source)) continue;
    return p;
  }
  return null;
}

/** The decision for a query no policy refuses: one object, shared (decide runs per query). */
const ALLOWED: { readonly action: AclAction; readonly zone: string } = Object.freeze({
  action: "allow",
  zone: "",
});

/** The acl plugin of one server block, with every `acl` directive's rule. */
export class Acl implements Plugin {
  readonly name = "acl";
  readonly #allowed = new Map<string, CounterHandle>();
  #lastRemote = "";
  #lastSource: Address | null = null;

  constructor(readonly rules: AclRule[]) {}

  /** What acl does with a query for `qname`/`qtype` from `remote` ("allow" when nothing matches). */
  decide(qname: string, qtype: string, remote: string): { action: AclAction; zone: string } {
    let source: Address | null | undefined;
    for (const rule of this.rules) {
      const zone = matchZone(qname, rule.zones);
      if (zone === undefined) continue;
      // As CoreDNS: a source that does not parse is blocked.
      source ??= this.#parseRemote(remote);
      if (source === null) return { action: "block", zone };
      const policy = matchPolicy(rule.policies, source, qtype);
      if (policy === null) continue;
      if (policy.action === "allow") break;
      return { action: policy.action, zone };
    }
    return ALLOWED;
  }

  /**
   * The client's address, parsed once per distinct client in a row (a busy client repeats). Not
   * `transient`: the result is kept, and the scratch buffer is shared with other parsers.
   */
  #parseRemote(remote: string): Address | null {
    if (remote !== this.#lastRemote) {
      this.#lastSource = parseAddress(remote);
      this.#lastRemote = remote;
    }
    return this.#lastSource;
  }

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    const { action, zone } = this.decide(q.qname, q.qtype, q.remote.hostname);
    switch (action) {
      case "allow": {
        let allowed = this.#allowed.get(q.server);
        if (allowed === undefined) {
          allowed = allowedRequests.bind([q.server, ""]);
          this.#allowed.set(q.server, allowed);
        }
        allowed.inc();
        return next();
      }
      case "drop":
        droppedRequests.inc([q.server, zone, ""]);
        q.drop();
        return;
      case "block":
        blockedRequests.inc([q.server, zone, ""]);
        q.write(refusal(q, Rcode.REFUSED, EdeCode.BLOCKED));
        return;
      case "filter":
        filteredRequests.inc([q.server, zone, ""]);
        q.write(refusal(q, Rcode.NOERROR, EdeCode.FILTERED));
        return;
    }
  }
}

/** An empty reply with `rcode`, carrying an Extended DNS Error when the client uses EDNS. */
function refusal(q: QueryContext, rcode: number, ede: number): DnsMessage {
  const reply = replyTo(q.request, rcode);
  if (q.opt) reply.additionals.push(extendedError(ede));
  return reply;
}
