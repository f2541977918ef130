/**
 * The one ordered list of plugins. A query passes through a server block's plugins in this
 * order, whatever order the Corefile lists them in (as CoreDNS's plugin.cfg fixes it). Only the
 * commands (serve, check, the worker thread) import it; they hand it to the server. Each plugin
 * is imported when a Corefile first names it, so a process compiles only what it runs.
 */
import { PluginList } from "../plugin/plugin.ts";

/** Every plugin, in chain order. */
export const PLUGINS: PluginList = new PluginList([
  // Before reload, as in CoreDNS's plugin.cfg. It adds nothing to the chain.
  { name: "tls", load: () => import("./tls/setup.ts").then((m) => m.setupTls) },
  { name: "reload", load: () => import("./reload/setup.ts").then((m) => m.setupReload) },
  { name: "bufsize", load: () => import("./bufsize/setup.ts").then((m) => m.setupBufsize) },
  { name: "bind", load: () => import("./bind/setup.ts").then((m) => m.setupBind) },
  { name: "ready", load: () => import("./ready/setup.ts").then((m) => m.setupReady) },
  { name: "health", load: () => import("./health/setup.ts").then((m) => m.setupHealth) },
  {
    name: "prometheus",
    load: () => import("./prometheus/setup.ts").then((m) => m.setupPrometheus),
  },
  { name: "discovery", load: () => import("./discovery/setup.ts").then((m) => m.setupDiscovery) },
  { name: "errors", load: () => import("./errors/setup.ts").then((m) => m.setupErrors) },
  { name: "log", load: () => import("./log/setup.ts").then((m) => m.setupLog) },
  {
    name: "loadbalance",
    load: () => import("./loadbalance/setup.ts").then((m) => m.setupLoadbalance),
  },
  // Before acl, so that queries acl refuses are limited too: a flood of spoofed queries gets
  // at most `rate` small replies per second per source, not one REFUSED per query.
  { name: "ratelimit", load: () => import("./ratelimit/setup.ts").then((m) => m.setupRatelimit) },
  // Where CoreDNS's plugin.cfg puts it: after log and errors, before cache.
  { name: "acl", load: () => import("./acl/setup.ts").then((m) => m.setupAcl), repeatable: true },
  { name: "cache", load: () => import("./cache/setup.ts").then((m) => m.setupCache) },
  { name: "idetcd", load: () => import("./idetcd/setup.ts").then((m) => m.setupIdetcd) },
  { name: "etcdhosts", load: () => import("./etcdhosts/setup.ts").then((m) => m.setupEtcdHosts) },
  { name: "hosts", load: () => import("./hosts/setup.ts").then((m) => m.setupHosts) },
  {
    name: "forward",
    load: () => import("./forward/setup.ts").then((m) => m.setupForward),
    repeatable: true,
  },
  { name: "whoami", load: () => import("./whoami/setup.ts").then((m) => m.setupWhoami) },
  // Process-wide: it adds nothing to the chain, so its place does not matter; last, since it is
  // ours and not in CoreDNS's plugin.cfg.
  { name: "workers", load: () => import("./workers/setup.ts").then((m) => m.setupWorkers) },
]);
