/** cache's setup: `cache [TTL] [ZONES...] { ... }` to a validated config, as CoreDNS parses it. */
import { type Directive, keyString } from "../../corefile/types.ts";
import type { Setup, SetupContext } from "../../plugin/plugin.ts";
import {
  expectArgs,
  expectNoBlock,
  fail,
  parseDuration,
  parseInteger,
  unknownProperty,
} from "../../corefile/args.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { Cache, type CacheClass, type CacheConfig } from "./handler.ts";
import { CacheChannel } from "./share.ts";

const PLUGIN = "cache";
const MAX_TTL = 2 ** 31 - 1;

/** Parses and validates one cache directive. */
export function parseCache(d: Directive, ctx: Pick<SetupContext, "zones">): CacheConfig {
  const config: CacheConfig = {
    zones: [],
    success: { capacity: 10_000, maxTtl: 3600, minTtl: 5 },
    denial: { capacity: 10_000, maxTtl: 1800, minTtl: 5 },
    servfailTtl: 5,
    prefetchAmount: 0,
    prefetchGapMs: 60_000,
    prefetchPercentage: 10,
    staleSeconds: 0,
    staleVerify: false,
  };

  let args = d.args;
  // A first argument that is a number is the TTL; anything else starts the zones.
  if (args.length > 0 && /^-?\d+$/.test(args[0])) {
    const ttl = parseInteger(args[0], d, PLUGIN, "the cache TTL", 1, MAX_TTL);
    config.success.maxTtl = ttl;
    config.denial.maxTtl = ttl;
    args = args.slice(1);
  }
  config.zones = pluginZones(args, ctx.zones, d, PLUGIN);

  for (const p of d.block ?? []) {
    expectNoBlock(p, PLUGIN);
    switch (p.name) {
      case "success":
      case "denial":
        parseClass(p, config[p.name]);
        break;
      case "prefetch":
        parsePrefetch(p, config);
        break;
      case "serve_stale":
        parseServeStale(p, config);
        break;
      case "servfail": {
        expectArgs(p, PLUGIN, 1);
        const ms = parseDuration(p.args[0], p, PLUGIN, "servfail");
        if (ms > 300_000) fail(p, PLUGIN, `servfail may be at most 5m, got '${p.args[0]}'`);
        config.servfailTtl = Math.floor(ms / 1000);
        break;
      }
      default:
        unknownProperty(p, PLUGIN);
    }
  }
  return config;
}

/** `success|denial CAPACITY [TTL [MINTTL]]`. */
function parseClass(p: Directive, cls: CacheClass): void {
  expectArgs(p, PLUGIN, 1, 3);
  cls.capacity = parseInteger(p.args[0], p, PLUGIN, `${p.name} capacity`, 0);
  if (p.args.length > 1) {
    cls.maxTtl = parseInteger(p.args[1], p, PLUGIN, `${p.name} TTL`, 1, MAX_TTL);
  }
  if (p.args.length > 2) {
    cls.minTtl = parseInteger(p.args[2], p, PLUGIN, `${p.name} minimum TTL`, 0, MAX_TTL);
    if (cls.minTtl > cls.maxTtl) {
      fail(p, PLUGIN, `${p.name} minimum TTL ${cls.minTtl} is above its TTL ${cls.maxTtl}`);
    }
  }
}

/** `prefetch AMOUNT [DURATION [PERCENTAGE%]]`. */
function parsePrefetch(p: Directive, config: CacheConfig): void {
  expectArgs(p, PLUGIN, 1, 3);
  config.prefetchAmount = parseInteger(p.args[0], p, PLUGIN, "prefetch amount", 0);
  if (p.args.length > 1) {
    config.prefetchGapMs = parseDuration(p.args[1], p, PLUGIN, "prefetch duration");
  }
  if (p.args.length > 2) {
    const pct = p.args[2];
    if (!pct.endsWith("%")) {
      fail(p, PLUGIN, `prefetch percentage must end with '%', e.g. 10%, got '${pct}'`);
    }
    config.prefetchPercentage = parseInteger(
      pct.slice(0, -1),
      p,
      PLUGIN,
      "prefetch percentage",
      10,
      90,
    );
  }
}

/** `serve_stale [DURATION [immediate|verified]]`. */
function parseServeStale(p: Directive, config: CacheConfig): void {
  expectArgs(p, PLUGIN, 0, 2);
  config.staleSeconds = 3600;
  if (p.args.length > 0) {
    config.staleSeconds = Math.floor(parseDuration(p.args[0], p, PLUGIN, "serve_stale") / 1000);
  }
  if (p.args.length > 1) {
    const mode = p.args[1];
    if (mode !== "immediate" && mode !== "verified") {
      fail(p, PLUGIN, `serve_stale refresh mode must be immediate or verified, got '${mode}'`);
    }
    config.staleVerify = mode === "verified";
  }
}

let configs = 0;

/**
 * The cache directive's setup. The channel names this block's cache in every thread (its keys
 * are unique per zone and port, and its settings must match); the resource key is fresh per
 * setup, so the subscription ends with the config it belongs to.
 */
export const setupCache: Setup = (d, ctx) => {
  const config = parseCache(d, ctx);
  const channel = `cache ${JSON.stringify([ctx.keys.map(keyString), config])}`;
  const cache = new Cache(config, undefined, channel);
  ctx.resources.use(
    `${channel} ${++configs}`,
    () => new CacheChannel(channel, (entry) => cache.adopt(entry)),
  );
  return cache;
};
