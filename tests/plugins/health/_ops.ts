/**
 * Helpers for the health, ready, prometheus and reload tests: set a server block's directives
 * up against a real ResourcePool, start it, and fetch from the HTTP endpoints.
 */
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { orderDirectives } from "../../../src/server/config.ts";
import type { Plugin, SetupContext } from "../../../src/plugin/plugin.ts";
import { PLUGINS } from "../../../src/plugins/registry.ts";
import { pluginLogger } from "../../../src/util/log.ts";
import { ReadinessRegistry } from "../../../src/plugin/readiness.ts";
import { ResourcePool, type Resources } from "../../../src/plugin/resources.ts";

// build() sets up plugins synchronously, so load them all first.
await PLUGINS.loadAll();

/** One config built from Corefile text, as the server builds it, without DNS listeners. */
export interface Built {
  plugins: Plugin[];
  readiness: ReadinessRegistry;
}

/** Sets up every directive of every block of `corefile` against `resources`. */
export function build(corefile: string, resources: Resources): Built {
  const parsed = parseCorefile(corefile, { file: "Corefile" });
  const readiness = new ReadinessRegistry();
  const plugins: Plugin[] = [];
  for (const block of parsed.blocks) {
    const chain: Plugin[] = [];
    for (const d of orderDirectives(block, PLUGINS)) {
      const ctx: SetupContext = {
        keys: block.keys,
        zones: [...new Set(block.keys.map((k) => k.zone))],
        corefilePath: "Corefile",
        resources,
        readiness,
        log: pluginLogger(d.name),
        bind: () => {},
        summary: () => ({
          plugins: chain.map((p) => p.name),
          servers: block.keys.map((k) => `dns://:${k.port}`),
        }),
      };
      const plugin = PLUGINS.setupOf(d.name)(d, ctx);
      if (plugin) chain.push(plugin);
    }
    plugins.push(...chain);
  }
  return { plugins, readiness };
}

/** Builds `corefile` into `pool` and makes it live (starts what it added, closes what it dropped). */
export async function apply(pool: ResourcePool, corefile: string): Promise<Built> {
  const built = build(corefile, pool.begin());
  await pool.start();
  await pool.commit();
  return built;
}

/** The message a setup throws for `corefile`. */
export function setupError(corefile: string): string {
  try {
    build(corefile, new ResourcePool().begin());
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error("setup did not fail");
}

/** GETs `http://127.0.0.1:PORT/PATH`; reads the whole body. */
export async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
}
