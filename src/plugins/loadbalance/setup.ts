/** loadbalance's setup: `loadbalance [round_robin] { limit_answers N }`. */
import type { Directive } from "../../corefile/types.ts";
import type { Setup } from "../../plugin/plugin.ts";
import {
  expectArgs,
  expectNoBlock,
  fail,
  parseInteger,
  unknownProperty,
} from "../../corefile/args.ts";
import { Loadbalance, type LoadbalanceConfig } from "./handler.ts";

const PLUGIN = "loadbalance";

/** Parses and validates one loadbalance directive. */
export function parseLoadbalance(d: Directive): LoadbalanceConfig {
  const policy = d.args[0] ?? "round_robin";
  if (policy === "weighted") {
    fail(d, PLUGIN, "the 'weighted' policy is not supported by etcdns: use round_robin");
  }
  expectArgs(d, PLUGIN, 0, 1);
  if (policy !== "round_robin") fail(d, PLUGIN, `unknown policy '${policy}': use round_robin`);
  const config: LoadbalanceConfig = { limitAnswers: 0 };
  for (const p of d.block ?? []) {
    expectNoBlock(p, PLUGIN);
    if (p.name !== "limit_answers") unknownProperty(p, PLUGIN);
    expectArgs(p, PLUGIN, 1);
    config.limitAnswers = parseInteger(p.args[0], p, PLUGIN, "limit_answers", 1);
  }
  return config;
}

/** The loadbalance directive's setup. */
export const setupLoadbalance: Setup = (d) => new Loadbalance(parseLoadbalance(d));
