/** Composes a server block's plugins into one handler, as Hono composes middleware. */
import { Rcode } from "../dns/message.ts";
import type { HandlerResult, Plugin } from "../plugin/plugin.ts";
import type { QueryContext } from "../plugin/query.ts";

/** A composed plugin chain. */
export interface Chain {
  /** Runs the chain; a handler that throws rejects the promise. */
  (q: QueryContext): Promise<HandlerResult>;
  /**
   * Runs the chain without a promise when every handler answers synchronously (the hot path
   * of plugins that answer from memory). May throw what a handler throws.
   */
  run(q: QueryContext): HandlerResult | Promise<HandlerResult>;
}

/**
 * Runs `plugins` in order; each gets a `next` that runs the rest. Past the last plugin there is
 * nobody left to answer, which is a server failure (CoreDNS: "no next plugin found").
 */
export function compose(plugins: readonly Plugin[]): Chain {
  const run = (q: QueryContext, i: number): HandlerResult | Promise<HandlerResult> => {
    const plugin = plugins[i];
    if (plugin === undefined) return Rcode.SERVFAIL;
    const result = plugin.handle(q, () => run(q, i + 1));
    if (result !== undefined && typeof result !== "number") {
      return result.then((r) => {
        markWriter(q, plugin);
        return r;
      });
    }
    markWriter(q, plugin);
    return result;
  };
  const chain = ((q: QueryContext) => {
    try {
      return Promise.resolve(run(q, 0));
    } catch (err) {
      return Promise.reject(err);
    }
  }) as Chain;
  chain.run = (q) => run(q, 0);
  return chain;
}

/** The innermost plugin that returns with a reply wrote it (metrics' `plugin` label). */
function markWriter(q: QueryContext, plugin: Plugin): void {
  if (q.writer === "" && q.response !== null) q.writer = plugin.name;
}
