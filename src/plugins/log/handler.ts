/** log: one line per query on stdout, in CoreDNS's format, once the reply has been sent. */
import { type DnsMessage, inZone, Rcode } from "../../dns/message.ts";
import { writeLineSoon } from "../../util/log.ts";
import { LineBytes } from "../../util/line_bytes.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { Next, Plugin } from "../../plugin/plugin.ts";
import type { Formatter } from "./format.ts";

/** CoreDNS's response classes. */
export type ResponseClass = "success" | "denial" | "error" | "all";

/** The log plugin's validated config. */
export interface LogConfig {
  /** Only names under these zones are logged. */
  names: string[];
  format: Formatter;
  /** The classes to log; empty means all. */
  classes: Set<ResponseClass>;
  /** Also log any reply slower than this, whatever its class. */
  minDurationMs: number | null;
}

/** Classifies a reply as CoreDNS's response.Classify does. */
export function classify(rcode: number, answers: number, delegation: boolean): ResponseClass {
  if (rcode === Rcode.NOERROR) return answers > 0 || delegation ? "success" : "denial";
  if (rcode === Rcode.NXDOMAIN) return "denial";
  return "error";
}

/** Where this thread's log lines are built, one at a time. */
const line = new LineBytes();

/** Logs queries after their reply is sent, so that rcode, size and duration are final. */
export class LogPlugin implements Plugin {
  readonly name = "log";
  readonly #sent = (q: QueryContext, reply: DnsMessage, rsize: number, rcode: number) =>
    this.#write(q, reply, rsize, rcode);

  constructor(readonly config: LogConfig) {}

  handle(q: QueryContext, next: Next) {
    if (this.config.names.some((z) => inZone(q.qname, z))) q.onSent(this.#sent);
    return next();
  }

  #write(q: QueryContext, reply: DnsMessage, rsize: number, rcode: number): void {
    const durationMs = q.durationMs;
    const { classes, minDurationMs, format } = this.config;
    if (classes.size > 0) {
      const delegation = reply.answers.length === 0 &&
        reply.authorities.some((a) => a.type === "NS");
      const cls = classify(rcode, reply.answers.length, delegation);
      const slow = minDurationMs !== null && durationMs >= minDurationMs;
      if (!classes.has(cls) && !slow) return;
    }
    line.reset().text("[INFO] ");
    format({ q, rcode, rsize, rflags: reply.flags, durationMs }, line);
    writeLineSoon(line.bytes());
  }
}
