/**
 * The one ordered list of plugins. A query passes through a server block's plugins in this
 * order, whatever order the Corefile lists them in (as CoreDNS's plugin.cfg fixes it). Only the
 * commands (serve, check) import it; they hand it to the server.
 */
import { PluginList } from "../plugin/plugin.ts";
import { setupAcl } from "./acl/setup.ts";
import { setupBind } from "./bind/setup.ts";
import { setupBufsize } from "./bufsize/setup.ts";
import { setupCache } from "./cache/setup.ts";
import { setupDiscovery } from "./discovery/setup.ts";
import { setupErrors } from "./errors/setup.ts";
import { setupEtcdHosts } from "./etcdhosts/setup.ts";
import { setupForward } from "./forward/setup.ts";
import { setupHealth } from "./health/setup.ts";
import { setupHosts } from "./hosts/setup.ts";
import { setupIdetcd } from "./idetcd/setup.ts";
import { setupLoadbalance } from "./loadbalance/setup.ts";
import { setupLog } from "./log/setup.ts";
import { setupPrometheus } from "./prometheus/setup.ts";
import { setupRatelimit } from "./ratelimit/setup.ts";
import { setupReady } from "./ready/setup.ts";
import { setupReload } from "./reload/setup.ts";
import { setupTls } from "./tls/setup.ts";
import { setupWhoami } from "./whoami/setup.ts";
import { setupWorkers } from "./workers/setup.ts";

/** Every plugin, in chain order. */
export const PLUGINS: PluginList = new PluginList([
  // Before reload, as in CoreDNS's plugin.cfg. It adds nothing to the chain.
  { name: "tls", setup: setupTls },
  { name: "reload", setup: setupReload },
  { name: "bufsize", setup: setupBufsize },
  { name: "bind", setup: setupBind },
  { name: "ready", setup: setupReady },
  { name: "health", setup: setupHealth },
  { name: "prometheus", setup: setupPrometheus },
  { name: "discovery", setup: setupDiscovery },
  { name: "errors", setup: setupErrors },
  { name: "log", setup: setupLog },
  { name: "loadbalance", setup: setupLoadbalance },
  // Before acl, so that queries acl refuses are limited too: a flood of spoofed queries gets
  // at most `rate` small replies per second per source, not one REFUSED per query.
  { name: "ratelimit", setup: setupRatelimit },
  // Where CoreDNS's plugin.cfg puts it: after log and errors, before cache.
  { name: "acl", setup: setupAcl, repeatable: true },
  { name: "cache", setup: setupCache },
  { name: "idetcd", setup: setupIdetcd },
  { name: "etcdhosts", setup: setupEtcdHosts },
  { name: "hosts", setup: setupHosts },
  { name: "forward", setup: setupForward, repeatable: true },
  { name: "whoami", setup: setupWhoami },
  // Process-wide: it adds nothing to the chain, so its place does not matter; last, since it is
  // ours and not in CoreDNS's plugin.cfg.
  { name: "workers", setup: setupWorkers },
]);
