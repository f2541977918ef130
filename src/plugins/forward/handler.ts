/**
 * forward: proxies queries to upstream DNS servers, as CoreDNS's forward plugin does.
 *
 * For each query it walks the upstreams in policy order, skipping those health checking has
 * marked down; when every upstream is down it assumes health checking is broken and tries a
 * random one. An exchange error starts health probing of that upstream and moves on to the next.
 * The whole query has a 5 s budget; when it runs out the client gets SERVFAIL.
 */
import { encode, Flag, inZone, Rcode, RCODE_NAMES, rcodeOf } from "../../dns/message.ts";
import type { QueryContext } from "../../plugin/query.ts";
import { type HandlerResult, type Next, type Plugin, PluginError } from "../../plugin/plugin.ts";
import { randomId, type Transport } from "./upstream.ts";
import {
  healthcheckBroken,
  maxConcurrentRejects,
  requestCount,
  requestDuration,
  responseCount,
} from "./metrics.ts";
import type { Proxy, ProxyPool } from "./proxy.ts";
import { errorMessage } from "../../util/errors.ts";

/** How upstreams are ordered for each query. */
export type Policy = "random" | "round_robin" | "sequential";

/** A forward directive, validated. */
export interface ForwardConfig {
  /** The zone whose names are forwarded (lowercased FQDN). */
  from: string;
  /** Zones under `from` that are not forwarded (passed to the next plugin). */
  except: string[];
  /** Upstream addresses. */
  to: { hostname: string; port: number }[];
  forceTcp: boolean;
  preferUdp: boolean;
  /** Idle upstream sockets are closed after this long. */
  expireMs: number;
  /** An upstream is down when its failed probes exceed this; 0 disables health checking. */
  maxFails: number;
  policy: Policy;
  /** Interval between health probes of a failing upstream. */
  healthCheckMs: number;
  healthCheckDomain: string;
  healthCheckRecursionDesired: boolean;
  /** Queries in flight beyond this are REFUSED; 0 means no limit. */
  maxConcurrent: number;
}

/** Timeouts, fixed in CoreDNS; tests shorten them. */
export interface ForwardTimeouts {
  /** How long one exchange with one upstream may take (CoreDNS: 2 s). */
  readTimeoutMs: number;
  /** How long one query may take across all attempts (CoreDNS: 5 s). */
  deadlineMs: number;
}

/** CoreDNS's timeouts. */
export const DEFAULT_TIMEOUTS: ForwardTimeouts = { readTimeoutMs: 2000, deadlineMs: 5000 };

/**
 * At most this many passes over the upstream list per query. CoreDNS keeps retrying until its
 * deadline; with upstreams that fail fast (TCP refused) that is a busy loop, so we stop earlier.
 */
const MAX_PASSES = 3;

/** The forward plugin instance of one directive. */
export class Forward implements Plugin {
  readonly name = "forward";
  #inflight = 0;
  #roundRobin = 0;

  constructor(
    readonly config: ForwardConfig,
    readonly pool: ProxyPool,
    readonly timeouts: ForwardTimeouts = DEFAULT_TIMEOUTS,
  ) {}

  /** Whether this forward handles `qname`: under FROM and not under an `except` zone. */
  matches(qname: string): boolean {
    const { from, except } = this.config;
    if (!inZone(qname, from)) return false;
    if (qname === from) return true;
    for (const z of except) if (inZone(qname, z)) return false;
    return true;
  }

  async handle(q: QueryContext, next: Next): Promise<HandlerResult> {
    if (!this.matches(q.qname)) return next();
    const max = this.config.maxConcurrent;
    if (max > 0 && this.#inflight >= max) {
      maxConcurrentRejects.inc();
      throw new PluginError(`concurrent queries exceeded maximum ${max}`, Rcode.REFUSED);
    }
    this.#inflight++;
    try {
      return await this.#forward(q);
    } finally {
      this.#inflight--;
    }
  }

  async #forward(q: QueryContext): Promise<HandlerResult> {
    const { config, timeouts } = this;
    const proxies = this.pool.proxies;
    const list = this.#list(proxies);
    const started = performance.now();
    const deadline = started + timeouts.deadlineMs;
    const query = encode(q.request);
    const transport: Transport = config.forceTcp ? "tcp" : config.preferUdp ? "udp" : q.proto;

    let i = 0;
    let downs = 0;
    let attempts = 0;
    let lastError = "no healthy proxies";
    while (performance.now() < deadline && attempts < MAX_PASSES * list.length) {
      if (i >= list.length) {
        i = 0;
        downs = 0;
      }
      let proxy = list[i++];
      if (proxy.down(config.maxFails)) {
        downs++;
        if (downs < proxies.length) continue;
        // Every upstream is down: assume health checking itself is broken and try one anyway.
        healthcheckBroken.inc();
        proxy = proxies[Math.floor(Math.random() * proxies.length)];
      }
      attempts++;
      try {
        const reply = await this.#exchange(proxy, q, query, transport, deadline);
        reply.id = q.request.id;
        q.write(reply);
        return;
      } catch (err) {
        lastError = errorMessage(err);
        if (config.maxFails !== 0) proxy.healthcheck();
        if (downs < proxies.length) continue;
        break;
      }
    }
    throw new PluginError(lastError, Rcode.SERVFAIL);
  }

  async #exchange(
    proxy: Proxy,
    q: QueryContext,
    query: Uint8Array,
    transport: Transport,
    deadline: number,
  ) {
    const start = performance.now();
    const timeout = () => Math.min(this.timeouts.readTimeoutMs, deadline - performance.now());
    const id = randomId();
    query[0] = id >> 8;
    query[1] = id & 0xff;
    let reply = await proxy.upstream.exchange(query, q.question, transport, timeout(), q.udpSize);
    // prefer_udp: a truncated UDP reply is retried over TCP (the server truncates it again for a
    // UDP client). Otherwise a truncated reply goes to the client as it is, and a UDP client
    // retries over TCP itself, which then reaches the upstream over TCP.
    if ((reply.flags & Flag.TC) !== 0 && transport === "udp" && this.config.preferUdp) {
      reply = await proxy.upstream.exchange(query, q.question, "tcp", timeout());
    }
    const rcode = rcodeOf(reply);
    const rcodeName = RCODE_NAMES[rcode] ?? String(rcode);
    requestCount.inc([proxy.label]);
    responseCount.inc([rcodeName, proxy.label]);
    requestDuration.observe([proxy.label, rcodeName], (performance.now() - start) / 1000);
    return reply;
  }

  /** The upstreams in the order this query tries them. */
  #list(proxies: readonly Proxy[]): readonly Proxy[] {
    const n = proxies.length;
    if (n <= 1) return proxies;
    switch (this.config.policy) {
      case "sequential":
        return proxies;
      case "round_robin": {
        const start = this.#roundRobin++ % n;
        if (this.#roundRobin >= n) this.#roundRobin = 0;
        return [...proxies.slice(start), ...proxies.slice(0, start)];
      }
      case "random": {
        if (n === 2) return Math.random() < 0.5 ? proxies : [proxies[1], proxies[0]];
        const out = [...proxies];
        for (let j = n - 1; j > 0; j--) {
          const k = Math.floor(Math.random() * (j + 1));
          [out[j], out[k]] = [out[k], out[j]];
        }
        return out;
      }
    }
  }
}
