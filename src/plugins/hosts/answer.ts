/**
 * The one answering code of the hosts and etcdhosts plugins, with CoreDNS hosts semantics:
 * A, AAAA and PTR from memory; NODATA for a name known only in the other family; an unknown
 * name falls through where `fallthrough` covers it, otherwise SERVFAIL (a hosts file has no SOA
 * to build an NXDOMAIN from).
 */
import { Flag, matchZone, Rcode, replyTo, type ResourceRecord } from "../../dns/message.ts";
import type { HandlerResult, Next } from "../../plugin/plugin.ts";
import type { Fallthrough } from "../../plugin/fallthrough.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HostsTable } from "../../hostsfile/table.ts";

/** What answering needs besides the table. */
export interface HostsAnswerOptions {
  /** The zones the plugin is authoritative for (lowercased FQDNs). */
  readonly zones: readonly string[];
  /** The TTL of every answer, in seconds. */
  readonly ttl: number;
  readonly fallthrough: Fallthrough;
}

/**
 * Answers `q` from `table`, or passes it on. Returns what a plugin handler returns. Writes a
 * reply only for names the table knows.
 */
export function answerFromTable(
  q: QueryContext,
  next: Next,
  table: HostsTable,
  options: HostsAnswerOptions,
): HandlerResult | Promise<HandlerResult> {
  const qname = q.qname;
  const qtype = q.qtype;
  // PTR names need not lie in the plugin's zones: the reverse map only holds in-zone names.
  if (qtype !== "PTR" && matchZone(qname, options.zones) === undefined) return next();

  let answers: ResourceRecord[] = [];
  const owner = q.owner;
  if (qtype === "PTR") {
    const names = table.ptr.get(qname);
    // CoreDNS passes an unknown address on whatever `fallthrough` says.
    if (names === undefined) return next();
    answers = names.map((n) => ({
      name: owner,
      type: "PTR",
      class: "IN",
      ttl: options.ttl,
      data: n.slice(0, -1),
    }));
  } else if (qtype === "A" || qtype === "AAAA") {
    const ips = table.addresses(qtype === "A" ? 4 : 6, qname);
    if (ips !== undefined) {
      answers = ips.map((ip) => ({
        name: owner,
        type: qtype,
        class: "IN",
        ttl: options.ttl,
        data: ip,
      }));
    }
  }

  if (answers.length === 0 && !table.has(qname)) {
    if (options.fallthrough.covers(qname)) return next();
    return Rcode.SERVFAIL;
  }

  const reply = replyTo(q.request);
  reply.flags |= Flag.AA;
  reply.answers = answers;
  q.write(reply);
}
