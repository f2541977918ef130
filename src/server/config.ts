/** Builds a runnable config from parsed server blocks: plugin chains, routers, listeners. */
import { CorefileError, type Directive, type ServerBlock } from "../corefile/types.ts";
import type { Plugin, PluginList, SetupContext } from "../plugin/plugin.ts";
import { compose } from "./chain.ts";
import { DnsListener, WILDCARD } from "./listener.ts";
import { pluginLogger } from "../util/log.ts";
import { ReadinessRegistry } from "../plugin/readiness.ts";
import { serverLabel } from "../plugin/query.ts";
import type { Resources } from "../plugin/resources.ts";
import { ZoneRouter } from "./router.ts";

/** A config ready to serve once its resources are started. */
export interface BuiltConfig {
  /** Every listener with the router it will serve. */
  routers: Map<DnsListener, ZoneRouter>;
  readiness: ReadinessRegistry;
}

/** What `buildConfig` needs besides the blocks. */
export interface BuildOptions {
  /** The plugins a directive may name, in chain order. */
  plugins: PluginList;
  corefilePath: string;
  resources: Resources;
}

/** The directives of a block in chain order; a non-repeatable directive twice is an error. */
export function orderDirectives(block: ServerBlock, plugins: PluginList): Directive[] {
  const seen = new Set<string>();
  for (const d of block.directives) {
    const spec = plugins.spec(d.name);
    if (!spec) throw new CorefileError(d, `Unknown directive '${d.name}'`);
    if (seen.has(d.name) && !spec.repeatable) {
      throw new CorefileError(
        d,
        `plugin/${d.name}: this plugin can only be used once per server block`,
      );
    }
    seen.add(d.name);
  }
  // Array.prototype.sort is stable, so repeated directives (forward) keep their Corefile order.
  return [...block.directives].sort((a, b) => plugins.position(a.name) - plugins.position(b.name));
}

/** Sets up every plugin of every block and wires blocks to listeners. Opens nothing. */
export function buildConfig(blocks: readonly ServerBlock[], opts: BuildOptions): BuiltConfig {
  const readiness = new ReadinessRegistry();
  const routers = new Map<DnsListener, ZoneRouter>();
  const listeners = new Map<string, DnsListener>();

  for (const block of blocks) {
    let addresses = [WILDCARD];
    let bufsize: number | undefined;
    const zones = [...new Set(block.keys.map((k) => k.zone))];
    const plugins: Plugin[] = [];
    for (const d of orderDirectives(block, opts.plugins)) {
      const spec = opts.plugins.spec(d.name)!;
      const ctx: SetupContext = {
        keys: block.keys,
        zones,
        corefilePath: opts.corefilePath,
        resources: opts.resources,
        readiness,
        log: pluginLogger(d.name),
        bind: (a) => {
          addresses = a;
        },
        bufsize: (size) => {
          bufsize = size;
        },
        summary: () => ({
          plugins: plugins.map((p) => p.name),
          servers: block.keys.flatMap((k) => addresses.map((a) => serverLabel(a, k.port))),
        }),
      };
      const plugin = spec.setup(d, ctx);
      if (plugin) plugins.push(plugin);
    }
    const chain = plugins.length > 0 ? compose(plugins) : null;

    for (const key of block.keys) {
      for (const address of addresses) {
        const id = `dns|${address}|${key.port}`;
        let listener = listeners.get(id);
        if (!listener) {
          listener = opts.resources.use(id, () => new DnsListener(address, key.port));
          listeners.set(id, listener);
          routers.set(listener, new ZoneRouter());
        }
        if (!routers.get(listener)!.add({ zone: key.zone, chain, bufsize })) {
          throw new CorefileError(
            block,
            `zone ${key.zone} on port ${key.port} is defined by more than one server block`,
          );
        }
      }
    }
  }
  return { routers, readiness };
}
