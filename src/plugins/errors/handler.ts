/** errors: logs the errors that plugins further down the chain throw. */
import { RCODE_NAMES } from "../../dns/message.ts";
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

  async handle(q: QueryContext, next: Next): Promise<HandlerResult> {
    try {
      return await next();
    } catch (err) {
      const rcode = err instanceof PluginError ? err.rcode : 2;
      const detail = err instanceof Error
        ? (this.stacktrace && err.stack ? err.stack : err.message)
        : String(err);
      const line = `${RCODE_NAMES[rcode] ?? rcode} ${q.qname} ${q.qtype}: ${detail}`;
      if (!this.#consolidated(line)) this.log.error(line);
      return rcode;
    }
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
