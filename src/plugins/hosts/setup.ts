/**
 * hosts's setup: `hosts [FILE [ZONES...]] { INLINE; ttl; no_reverse; reload D; fallthrough }`,
 * with CoreDNS's syntax and defaults (FILE /etc/hosts, ttl 3600, reload 5s).
 */
import type { Directive } from "../../corefile/types.ts";
import { parseHostsBlock } from "./block.ts";
import type { Setup, SetupContext } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock, fail, parseDuration } from "../../corefile/args.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { HostsPlugin } from "./handler.ts";
import { HostsFileSource } from "./source.ts";
import { HostsReplica } from "./replica.ts";

const PLUGIN = "hosts";

/** The file CoreDNS reads when none is given. */
export const DEFAULT_HOSTS_FILE = "/etc/hosts";

/** CoreDNS's default check period. */
export const DEFAULT_RELOAD_MS = 5000;

/** Sets up hosts. */
export const setupHosts: Setup = (d: Directive, ctx: SetupContext) => {
  const path = d.args[0] ?? DEFAULT_HOSTS_FILE;
  if (path === "") fail(d, PLUGIN, "the hosts file path is empty");
  const zones = pluginZones(d.args.slice(1), ctx.zones, d, PLUGIN);
  let reloadMs = DEFAULT_RELOAD_MS;
  const block = parseHostsBlock(d, PLUGIN, zones, (p) => {
    if (p.name !== "reload") return false;
    expectNoBlock(p, PLUGIN);
    expectArgs(p, PLUGIN, 1);
    if (p.args[0].startsWith("-")) {
      fail(p, PLUGIN, `invalid negative duration for reload '${p.args[0]}'`);
    }
    reloadMs = parseDuration(p.args[0], p, PLUGIN, "reload");
    return true;
  });
  // Blocks with identical settings share one reader; a reload keeps it and its table.
  const key = "hosts:" +
    JSON.stringify([path, zones, block.reverse, block.inlineText, reloadMs]);
  // The file is read once per node, by the main thread; workers answer from replicas of its table.
  const read = ctx.resources.perNode(key, () =>
    new HostsFileSource({
      path,
      zones,
      reverse: block.reverse,
      inline: block.inline,
      reloadMs,
      log: ctx.log,
      stateKey: key,
    }));
  const source = read ??
    ctx.resources.use(`${key}|replica`, () => new HostsReplica(key, block.inline, block.reverse));
  return new HostsPlugin(source, { zones, ttl: block.ttl, fallthrough: block.fallthrough });
};
