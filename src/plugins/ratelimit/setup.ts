/**
 * ratelimit's setup:
 * `ratelimit [ZONES...] { rate QPS; burst N; ipv4_prefix N; ipv6_prefix N; action refuse|drop;
 * allow NET...; max_clients N }`.
 */
import type { Directive } from "../../corefile/types.ts";
import type { Setup, SetupContext } from "../../plugin/plugin.ts";
import {
  expectArgs,
  expectNoBlock,
  fail,
  parseInteger,
  unknownProperty,
} from "../../corefile/args.ts";
import { NetSet } from "../../plugin/netset.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { Ratelimit, type RatelimitConfig } from "./handler.ts";

const PLUGIN = "ratelimit";

/** Queries per second per source when `rate` is not given. */
export const DEFAULT_RATE = 50;
/** Most sources tracked when `max_clients` is not given. */
export const DEFAULT_MAX_CLIENTS = 10_000;

/** Parses and validates one ratelimit directive. */
export function parseRatelimit(d: Directive, ctx: Pick<SetupContext, "zones">): RatelimitConfig {
  const zones = pluginZones(d.args, ctx.zones, d, PLUGIN);
  let rate = DEFAULT_RATE;
  let burst: number | null = null;
  let ipv4Prefix = 32;
  let ipv6Prefix = 56;
  let action: "refuse" | "drop" = "refuse";
  const allow: string[] = [];
  let maxClients = DEFAULT_MAX_CLIENTS;
  const seen = new Set<string>();
  for (const p of d.block ?? []) {
    expectNoBlock(p, PLUGIN);
    if (seen.has(p.name) && p.name !== "allow") fail(p, PLUGIN, `'${p.name}' is given twice`);
    seen.add(p.name);
    switch (p.name) {
      case "rate":
        expectArgs(p, PLUGIN, 1);
        rate = parseInteger(p.args[0], p, PLUGIN, "rate", 1, 1_000_000);
        break;
      case "burst":
        expectArgs(p, PLUGIN, 1);
        burst = parseInteger(p.args[0], p, PLUGIN, "burst", 1, 1_000_000);
        break;
      case "ipv4_prefix":
        expectArgs(p, PLUGIN, 1);
        ipv4Prefix = parseInteger(p.args[0], p, PLUGIN, "ipv4_prefix", 1, 32);
        break;
      case "ipv6_prefix":
        expectArgs(p, PLUGIN, 1);
        ipv6Prefix = parseInteger(p.args[0], p, PLUGIN, "ipv6_prefix", 1, 128);
        break;
      case "action":
        expectArgs(p, PLUGIN, 1);
        if (p.args[0] !== "refuse" && p.args[0] !== "drop") {
          fail(p, PLUGIN, `action must be refuse or drop, got '${p.args[0]}'`);
        }
        action = p.args[0];
        break;
      case "allow": {
        expectArgs(p, PLUGIN, 1, Infinity);
        const parsed = NetSet.parse(p.args);
        if ("bad" in parsed) {
          fail(p, PLUGIN, `'${parsed.bad}' is not an IP address or CIDR network`);
        }
        allow.push(...p.args);
        break;
      }
      case "max_clients":
        expectArgs(p, PLUGIN, 1);
        maxClients = parseInteger(p.args[0], p, PLUGIN, "max_clients", 1, 10_000_000);
        break;
      default:
        unknownProperty(p, PLUGIN);
    }
  }
  return {
    zones,
    rate,
    burst: burst ?? rate,
    ipv4Prefix,
    ipv6Prefix,
    action,
    allow: NetSet.parse(allow) as NetSet,
    maxClients,
  };
}

/** Sets up ratelimit. Buckets live with the config: a reload starts them full. */
export const setupRatelimit: Setup = (d, ctx) => new Ratelimit(parseRatelimit(d, ctx));
