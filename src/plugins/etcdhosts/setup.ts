/**
 * etcdhosts's setup: `etcdhosts [ZONES...] { INLINE; ttl S; no_reverse; fallthrough [ZONES];
 * key K; endpoint URL...; credentials U P; tls [CERT KEY] [CA]; timeout D; force_reload D }`,
 * with etcdhosts v1's syntax and defaults (key /etcdhosts, ttl 3600, timeout 3s).
 */
import type { Directive } from "../../corefile/types.ts";
import {
  defaultEtcdOptions,
  type EtcdOptions,
  etcdOptionsKey,
  parseEtcdProperty,
} from "../../etcd/options.ts";
import { type HostsBlockConfig, parseHostsBlock } from "../hosts/block.ts";
import type { Setup, SetupContext } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock, fail, parseDuration } from "../../corefile/args.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { EtcdHostsPlugin } from "./handler.ts";
import { EtcdHostsSource } from "./source.ts";
import { HostsReplica } from "../hosts/replica.ts";

const PLUGIN = "etcdhosts";

/** The key etcdhosts v1 and dnsctl use. */
export const DEFAULT_KEY = "/etcdhosts";

/** etcdhosts v1's client timeout. */
export const DEFAULT_TIMEOUT_MS = 3000;

/** A validated etcdhosts directive. */
export interface EtcdHostsConfig extends HostsBlockConfig {
  zones: string[];
  key: string;
  etcd: EtcdOptions;
  /** 0 when off. */
  forceReloadMs: number;
}

/**
 * Parses one etcdhosts directive; `blockZones` are the server block's zones. Shared with
 * `etcdns hosts -conf Corefile`, which reads its etcd settings from here.
 */
export function parseEtcdHosts(d: Directive, blockZones: readonly string[]): EtcdHostsConfig {
  const zones = pluginZones(d.args, blockZones, d, PLUGIN);
  const etcd: EtcdOptions = { ...defaultEtcdOptions(), timeoutMs: DEFAULT_TIMEOUT_MS };
  let key = DEFAULT_KEY;
  let forceReloadMs = 0;
  const block = parseHostsBlock(d, PLUGIN, zones, (p) => {
    switch (p.name) {
      case "key":
        expectNoBlock(p, PLUGIN);
        expectArgs(p, PLUGIN, 1);
        if (p.args[0] === "") fail(p, PLUGIN, "key must not be empty");
        key = p.args[0];
        return true;
      case "force_reload":
        expectNoBlock(p, PLUGIN);
        expectArgs(p, PLUGIN, 1);
        if (p.args[0].startsWith("-")) {
          fail(p, PLUGIN, `force_reload must not be negative, got '${p.args[0]}'`);
        }
        forceReloadMs = parseDuration(p.args[0], p, PLUGIN, "force_reload");
        if (forceReloadMs > 0 && forceReloadMs < 100) {
          fail(p, PLUGIN, `force_reload must be 0 (off) or at least 100ms, got '${p.args[0]}'`);
        }
        return true;
      default:
        if (!["endpoint", "credentials", "tls", "timeout"].includes(p.name)) return false;
        expectNoBlock(p, PLUGIN);
        return parseEtcdProperty(p, PLUGIN, etcd);
    }
  });
  return { ...block, zones, key, etcd, forceReloadMs };
}

/** Sets up etcdhosts. */
export const setupEtcdHosts: Setup = (d: Directive, ctx: SetupContext) => {
  const config = parseEtcdHosts(d, ctx.zones);
  // Identical blocks share one source (and watch); a reload keeps it and the loaded table. The
  // etcd client is shared wider still, with every user of the same settings (etcd/pool.ts).
  const resourceKey = "etcdhosts:" + JSON.stringify([
    etcdOptionsKey(config.etcd),
    config.key,
    config.zones,
    config.reverse,
    config.inlineText,
    config.forceReloadMs,
  ]);
  // The watch is per node; a worker thread answers from a replica the main thread keeps current.
  const watched = ctx.resources.perNode(resourceKey, () =>
    new EtcdHostsSource({
      etcd: config.etcd,
      key: config.key,
      zones: config.zones,
      reverse: config.reverse,
      inline: config.inline,
      forceReloadMs: config.forceReloadMs,
      log: ctx.log,
      stateKey: resourceKey,
    }));
  const source = watched ?? ctx.resources.use(
    `${resourceKey}|replica`,
    () => new HostsReplica(resourceKey, config.inline, config.reverse),
  );
  ctx.readiness.register({ name: PLUGIN, ready: () => source.loaded });
  return new EtcdHostsPlugin(source, {
    zones: config.zones,
    ttl: config.ttl,
    fallthrough: config.fallthrough,
  });
};
