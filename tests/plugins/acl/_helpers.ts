/** Helpers for the acl and ratelimit tests: set plugins up from Corefile text, and run queries. */
import { QueryContext } from "../../../src/plugin/query.ts";
import type { HandlerResult, Plugin } from "../../../src/plugin/plugin.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { queryMessage, type QueryOptions } from "../../helpers/query.ts";
import { build } from "../health/_ops.ts";

/** The plugins of `corefile`'s blocks, in chain order. */
export async function pluginsOf(corefile: string): Promise<Plugin[]> {
  const pool = new ResourcePool();
  try {
    return build(corefile, pool.begin()).plugins;
  } finally {
    await pool.abort();
  }
}

/** The error message setting `corefile` up fails with ("" when it does not fail). */
export async function setupError(corefile: string): Promise<string> {
  try {
    await pluginsOf(corefile);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

/** A query context for `name`/`type` from `remote` over UDP. */
export function queryFrom(
  remote: string,
  name = "example.org",
  type = "A",
  opts: QueryOptions = {},
): QueryContext {
  const addr = (hostname: string, port: number): Deno.NetAddr => ({
    transport: "udp",
    hostname,
    port,
  });
  return new QueryContext(
    queryMessage(name, type, opts),
    40,
    "udp",
    addr(remote, 40000),
    addr("127.0.0.1", 53),
    ".",
  );
}

/** Runs `plugin` on `q` with a next that answers; says whether next ran and what came back. */
export async function run(
  plugin: Plugin,
  q: QueryContext,
): Promise<{ passed: boolean; result: HandlerResult }> {
  let passed = false;
  const result = await plugin.handle(q, () => {
    passed = true;
    return Promise.resolve(0);
  });
  return { passed, result };
}
