/** Builds a runnable config from parsed server blocks: plugin chains, routers, listeners. */
import { CorefileError, type Directive, type ServerBlock } from "../corefile/types.ts";
import type {
  Plugin,
  PluginList,
  SetupContext,
  TlsCertificate,
  WorkersSetting,
} from "../plugin/plugin.ts";
import { compose } from "./chain.ts";
import { DnsListener, type DnsListenerOptions, type UdpTuning, WILDCARD } from "./listener.ts";
import { DEFAULT_COALESCE_US } from "../net/udp_listen.ts";
import type { SpreadMode } from "../net/udp_spread.ts";
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
  /** The `workers` count the Corefile sets, or null where it sets none. */
  workers: number | null;
  /** How the listeners read UDP (the `workers` block's `coalesce`, else the default). */
  udp: UdpTuning;
}

/** What `buildConfig` needs besides the blocks. */
export interface BuildOptions {
  /** The plugins a directive may name, in chain order. */
  plugins: PluginList;
  corefilePath: string;
  resources: Resources;
  /**
   * Bind UDP with SO_REUSEPORT so that worker threads can bind the same ports (where the native
   * socket works). A second process on the same port still fails: its TCP bind is refused.
   */
  shareUdp?: boolean;
}

/** A worker thread's listeners serve UDP only, sharing the port; the main thread's serve both. */
function listenerOptions(opts: BuildOptions): DnsListenerOptions {
  if (opts.resources.worker) return { udpOnly: true, reusePort: true };
  return { reusePort: opts.shareUdp ?? false };
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

/** Loads the setups of the plugins the blocks name (call before `buildConfig`). */
export function loadPlugins(blocks: readonly ServerBlock[], plugins: PluginList): Promise<void> {
  return plugins.load(blocks.flatMap((b) => b.directives.map((d) => d.name)));
}

/**
 * Sets up every plugin of every block and wires blocks to listeners. Opens nothing. The
 * plugins' setups must be loaded (`loadPlugins`).
 */
export function buildConfig(blocks: readonly ServerBlock[], opts: BuildOptions): BuiltConfig {
  const readiness = new ReadinessRegistry();
  const routers = new Map<DnsListener, ZoneRouter>();
  const listeners = new Map<string, DnsListener>();
  // Set from setup callbacks, so TypeScript cannot see them change: hence the casts.
  let count = null as { value: number; at: Directive } | null;
  let coalesce = null as { value: number; at: Directive } | null;
  let spread = null as { value: SpreadMode; at: Directive } | null;

  for (const block of blocks) {
    let addresses = [WILDCARD];
    let bufsize: number | undefined;
    let tls: TlsCertificate | null = null;
    const zones = [...new Set(block.keys.map((k) => k.zone))];
    const plugins: Plugin[] = [];
    for (const d of orderDirectives(block, opts.plugins)) {
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
        tls: (certificate) => {
          tls = certificate;
        },
        workers: (setting: WorkersSetting) => {
          // One process, one setting: a second block may repeat it but not contradict it.
          if (setting.count !== null) {
            agree(d, count, setting.count, (n) => `${n} workers`, "the count");
            count ??= { value: setting.count, at: d };
          }
          if (setting.coalesceUs !== null) {
            agree(
              d,
              coalesce,
              setting.coalesceUs,
              (us) => (us === 0 ? "coalesce off" : `coalesce ${us}us`),
              "the window",
            );
            coalesce ??= { value: setting.coalesceUs, at: d };
          }
          if (setting.spread !== null) {
            agree(d, spread, setting.spread, (mode) => `spread ${mode}`, "the spreading");
            spread ??= { value: setting.spread, at: d };
          }
        },
        summary: () => ({
          plugins: plugins.map((p) => p.name),
          servers: block.keys.flatMap((k) => addresses.map((a) => serverLabel(a, k.port))),
        }),
      };
      const plugin = opts.plugins.setupOf(d.name)(d, ctx);
      if (plugin) plugins.push(plugin);
    }
    const chain = plugins.length > 0 ? compose(plugins) : null;

    for (const key of block.keys) {
      // As CoreDNS: a tls:// block must say which certificate to serve.
      const certificate = key.transport === "tls" ? tls : null;
      if (key.transport === "tls" && certificate === null) {
        throw new CorefileError(
          block,
          `server block '${key.raw}' serves DNS over TLS and needs a certificate: ` +
            "add 'tls CERT KEY' to the block",
        );
      }
      // DNS over TLS (TCP) is the main thread's; a worker thread serves UDP only.
      if (key.transport === "tls" && opts.resources.worker) continue;
      for (const address of addresses) {
        // A reload keeps a listener by address and port, so a DNS-over-TLS listener keeps the
        // certificate it started with (a new one needs a restart: Deno cannot swap it live).
        const id = `${key.transport}|${address}|${key.port}`;
        let listener = listeners.get(id);
        if (!listener) {
          listener = opts.resources.use(
            id,
            () => new DnsListener(address, key.port, undefined, certificate, listenerOptions(opts)),
          );
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
  return {
    routers,
    readiness,
    workers: count?.value ?? null,
    udp: {
      coalesceUs: coalesce?.value ?? DEFAULT_COALESCE_US,
      spread: spread?.value ?? "auto",
      threads: 1,
    },
  };
}

/** Throws unless a process-wide `workers` value agrees with the one an earlier block set. */
function agree<T>(
  d: Directive,
  earlier: { value: T; at: Directive } | null,
  value: T,
  describe: (value: T) => string,
  what: string,
): void {
  if (earlier === null || earlier.value === value) return;
  throw new CorefileError(
    d,
    `plugin/workers: ${describe(value)} here, but ${describe(earlier.value)} at ` +
      `${earlier.at.file}:${earlier.at.line}; ${what} is process-wide`,
  );
}
