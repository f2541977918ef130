/**
 * `discovery [ADDRESS] { endpoint URL...; prefix P; credentials U P; tls ...; timeout D; ttl D }`
 *
 * Serves etcd's v2 discovery protocol (`etcd --discovery http://ADDRESS/TOKEN`, etcd 3.4/3.5)
 * on ADDRESS, backed by the configured etcd's v3 API. Opens nothing during setup.
 */
import type { Directive } from "../../corefile/types.ts";
import {
  defaultEtcdOptions,
  type EtcdOptions,
  etcdOptionsKey,
  parseEtcdProperty,
} from "../../etcd/options.ts";
import type { Resource, Resources } from "../../plugin/resources.ts";
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, fail, parseDuration, unknownProperty } from "../../corefile/args.ts";
import {
  type HttpAddress,
  type HttpHandler,
  HttpListener,
  parseHttpAddress,
} from "../../plugin/http.ts";
import { DiscoveryService } from "./handler.ts";
import { TokenLayout, V3_DISCOVERY_PREFIX } from "./store.ts";

const P = "discovery";

/**
 * The default address: loopback only, port 2382. Next to etcd's 2379/2380 so firewall rules
 * for "etcd ports" read naturally, but not 2381, which kubeadm gives etcd's metrics listener;
 * and away from our 8080 (health), 8181 (ready) and 9153 (metrics).
 */
export const DEFAULT_DISCOVERY_ADDRESS = "127.0.0.1:2382";

/** How long a token lives by default: one week (a lease on the token's keys). */
export const DEFAULT_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** A checked discovery block. */
export interface DiscoveryConfig {
  address: HttpAddress;
  etcd: EtcdOptions;
  /** Key prefix without a trailing slash; default `/_etcd/registry` (etcd 3.6+'s). */
  prefix: string;
  /** Lifetime of tokens made by `etcdns discovery new -conf`, in seconds. */
  ttlSeconds: number;
}

/** Parses a discovery directive; errors read `FILE:LINE - plugin/discovery: ...`. */
export function parseDiscovery(d: Directive): DiscoveryConfig {
  expectArgs(d, P, 0, 1);
  const address = parseHttpAddress(d.args[0] ?? DEFAULT_DISCOVERY_ADDRESS, d, P);
  const etcd = defaultEtcdOptions();
  let prefix = V3_DISCOVERY_PREFIX;
  let ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS;
  for (const p of d.block ?? []) {
    if (parseEtcdProperty(p, P, etcd)) continue;
    switch (p.name) {
      case "prefix":
        expectArgs(p, P, 1);
        prefix = p.args[0].replace(/\/+$/, "");
        if (!prefix.startsWith("/")) fail(p, P, `prefix must start with '/', got '${p.args[0]}'`);
        break;
      case "ttl": {
        expectArgs(p, P, 1);
        const ms = parseDuration(p.args[0], p, P, "ttl");
        if (ms < 60_000) fail(p, P, `ttl must be at least 1m, got '${p.args[0]}'`);
        if (ms > 9_000_000_000 * 1000) fail(p, P, `ttl is too long: '${p.args[0]}'`);
        ttlSeconds = Math.ceil(ms / 1000);
        break;
      }
      default:
        unknownProperty(p, P);
    }
  }
  return { address, etcd, prefix, ttlSeconds };
}

/** Serves the discovery handler for every path without an exact route on a shared listener. */
class FallbackRoute implements Resource {
  constructor(readonly listener: HttpListener, readonly handler: HttpHandler) {}

  start(): Promise<void> {
    this.listener.setFallback(this.handler);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listener.clearFallback(this.handler);
    return Promise.resolve();
  }
}

/** Asks for the service and its listener; the listener is shared with health/ready/prometheus. */
function useDiscovery(resources: Resources, c: DiscoveryConfig, ctx: Parameters<Setup>[1]) {
  const key = `discovery ${JSON.stringify([c.address.text, etcdOptionsKey(c.etcd), c.prefix])}`;
  // All of it is per node: one HTTP service, served by the main thread.
  const service = resources.perNode(
    key,
    () => new DiscoveryService(c.etcd, new TokenLayout(c.prefix), ctx.log),
  );
  const listener = resources.perNode(
    `http|${c.address.text}`,
    () => new HttpListener(c.address, P),
  );
  if (service === null || listener === null) return;
  resources.use(`${key}|route`, () => new FallbackRoute(listener, service.handle));
}

/** Sets up discovery: an HTTP service only; it adds nothing to the DNS chain. */
export const setupDiscovery: Setup = (d, ctx) => {
  const c = parseDiscovery(d);
  useDiscovery(ctx.resources, c, ctx);
  return null;
};
