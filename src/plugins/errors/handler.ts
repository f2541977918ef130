/** errors: logs the errors that plugins further down the chain throw. */
import { RCODE_NAMES } from "../../dns/message.ts";
import { escapeText, presentName } from "../../dns/present.ts";
import type { Logger } from "../../util/log.ts";
import type { QueryContext } from "../../plugin/query.ts";
import { type HandlerResult, type Next, type Plugin, PluginError } from "../../plugin/plugin.ts";

/** Log levels `consolidate` may use. */
export type Level = "warning" | "error" | "info" | "debug";

/** One `consolidate` rule: matching errors are counted and logged once per period. */
export interface Consolidation {
  periodMs: number;
  pattern: RegExp;
  level: Level;
}

/**
 * Logs `[ERROR] plugin/errors: RCODE NAME. TYPE: message` for every error thrown below it,
 * then lets the server turn the error into its rcode (SERVFAIL unless a PluginError says
 * otherwise). Consolidated errors are counted and summarised once per period.
 */
export class ErrorsPlugin implements Plugin {
  readonly name = "errors";
  readonly #counts: number[];

  constructor(
    private readonly log: Logger,
    private readonly stacktrace: boolean,
    private readonly consolidate: readonly Consolidation[],
  ) {
    this.#counts = consolidate.map(() => 0);
  }

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    // Synchronous when the rest of the chain is: no promise on the common path.
    let result;
    try {
      result = next();
    } catch (err) {
      return this.#failed(q, err);
    }
    if (result !== undefined && typeof result !== "number") {
      return result.then((r) => r, (err) => this.#failed(q, err));
    }
    return result;
  }

  /** Logs what a handler threw and gives its rcode. */
  #failed(q: QueryContext, err: unknown): number {
    const rcode = err instanceof PluginError ? err.rcode : 2;
    const line = `${RCODE_NAMES[rcode] ?? rcode} ${presentName(q.qname)} ${q.qtype}: ${
      describe(err, this.stacktrace)
    }`;
    if (!this.#consolidated(line)) this.log.error(line);
    return rcode;
  }

  /** Counts `line` against the first matching rule; the first match in a period starts a timer. */
  #consolidated(line: string): boolean {
    const i = this.consolidate.findIndex((c) => c.pattern.test(line));
    if (i < 0) return false;
    if (this.#counts[i]++ === 0) {
      const rule = this.consolidate[i];
      const timer = setTimeout(() => {
        const n = this.#counts[i];
        this.#counts[i] = 0;
        const text = `${n} errors like '${rule.pattern.source}' occurred in last ${
          rule.periodMs / 1000
        }s`;
        (rule.level === "warning" ? this.log.warn : this.log[rule.level])(text);
      }, rule.periodMs);
      Deno.unrefTimer(timer);
    }
    return true;
  }
}

/**
 * An error as one line (its message may quote the network: names, upstream data), or, with
 * `stacktrace`, that line followed by the stack frames, which come from our own code.
 */
function describe(err: unknown, stacktrace: boolean): string {
  if (!(err instanceof Error)) return escapeText(String(err));
  const message = escapeText(err.message);
  if (!stacktrace || !err.stack) return message;
  const frames = err.stack.split("\n").filter((l) => /^\s+at /.test(l));
  return [`${err.name}: ${message}`, ...frames].join("\n");
}
