/** Composes a server block's plugins into one handler, as Hono composes middleware. */
import { Rcode } from "../dns/message.ts";
import type { HandlerResult, Plugin } from "../plugins/plugin.ts";
import type { QueryContext } from "./query.ts";

/** A composed plugin chain. */
export type Chain = (q: QueryContext) => Promise<HandlerResult>;

/**
 * Runs `plugins` in order; each gets a `next` that runs the rest. Past the last plugin there is
 * nobody left to answer, which is a server failure (CoreDNS: "no next plugin found").
 */
export function compose(plugins: readonly Plugin[]): Chain {
  const end = Promise.resolve<HandlerResult>(Rcode.SERVFAIL);
  const dispatch = async (q: QueryContext, i: number): Promise<HandlerResult> => {
    const plugin = plugins[i];
    if (plugin === undefined) return end;
    const result = await plugin.handle(q, () => dispatch(q, i + 1));
    // The innermost plugin that returns with a reply wrote it (metrics' `plugin` label).
    if (q.writer === "" && q.response !== null) q.writer = plugin.name;
    return result;
  };
  return (q) => dispatch(q, 0);
}
