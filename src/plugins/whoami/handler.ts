/** whoami: tells the client its own address, port and transport, as CoreDNS's whoami does. */
import { Flag, replyTo, type ResourceRecord } from "../../dns/message.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { Plugin } from "../../plugin/plugin.ts";

/** Answers every query with the client's address (A or AAAA) and port (SRV) in additional. */
export class WhoamiPlugin implements Plugin {
  readonly name = "whoami";

  handle(q: QueryContext): void {
    const reply = replyTo(q.request);
    reply.flags |= Flag.AA;
    const name = q.question.name;
    const ip = q.remote.hostname;
    const address: ResourceRecord = ip.includes(":")
      ? { type: "AAAA", name, class: "IN", ttl: 0, data: ip }
      : { type: "A", name, class: "IN", ttl: 0, data: ip };
    const port: ResourceRecord = {
      type: "SRV",
      // The root name has no labels to prefix: `_udp.` would encode an empty label.
      name: name === "" || name === "." ? `_${q.proto}` : `_${q.proto}.${name}`,
      class: "IN",
      ttl: 0,
      data: { priority: 0, weight: 0, port: q.remote.port, target: "." },
    };
    reply.additionals = [address, port];
    q.write(reply);
  }
}
