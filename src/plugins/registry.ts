/**
 * The one ordered list of plugins. A query passes through a server block's plugins in this
 * order, whatever order the Corefile lists them in (as CoreDNS's plugin.cfg fixes it).
 */
import type { PluginSpec, Setup } from "./plugin.ts";
import { fail } from "./shared/args.ts";
import { setupBind } from "./bind/setup.ts";
import { setupErrors } from "./errors/setup.ts";
import { setupLog } from "./log/setup.ts";
import { setupWhoami } from "./whoami/setup.ts";

/** A setup for a plugin whose implementation has not landed yet; it refuses clearly. */
function notYet(name: string): Setup {
  return (d) => fail(d, name, "this plugin is not implemented in this build yet");
}

/** Every plugin, in chain order. */
export const PLUGINS: readonly PluginSpec[] = [
  { name: "reload", setup: notYet("reload") },
  { name: "bind", setup: setupBind },
  { name: "ready", setup: notYet("ready") },
  { name: "health", setup: notYet("health") },
  { name: "prometheus", setup: notYet("prometheus") },
  { name: "errors", setup: setupErrors },
  { name: "log", setup: setupLog },
  { name: "loadbalance", setup: notYet("loadbalance") },
  { name: "cache", setup: notYet("cache") },
  { name: "idetcd", setup: notYet("idetcd") },
  { name: "etcdhosts", setup: notYet("etcdhosts") },
  { name: "hosts", setup: notYet("hosts") },
  { name: "forward", setup: notYet("forward"), repeatable: true },
  { name: "whoami", setup: setupWhoami },
];

/** The directive names, for the Corefile parser's unknown-directive check. */
export const DIRECTIVES: ReadonlySet<string> = new Set(PLUGINS.map((p) => p.name));

/** The chain position of each directive. */
export const ORDER: ReadonlyMap<string, number> = new Map(PLUGINS.map((p, i) => [p.name, i]));
