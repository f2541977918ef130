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
import { randomId, type Transport } from "./exchange.ts";
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

/** One upstream of a forward directive. */
export interface To {
  hostname: string;
  port: number;
  /** A `tls://` upstream (DNS over TLS). */
  tls: boolean;
  /** This upstream's TLS server name (`tls://IP%NAME`). */
  serverName?: string;
}

/** The `tls` property's files, read: PEM text. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

/** A forward directive, validated. */
export interface ForwardConfig {
  /** The zone whose names are forwarded (lowercased FQDN). */
  from: string;
  /** Zones under `from` that are not forwarded (passed to the next plugin). */
  except: string[];
  /** Upstream addresses. */
  to: To[];
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
  /**
   * Upstream exchanges one query may try (`max_connect_attempts`); undefined means CoreDNS's
   * default, twice the number of upstreams; 0 means no cap (only the 5 s deadline).
   */
  maxConnectAttempts?: number;
  /** Idle connections kept per upstream and transport; 0 means no limit. */
  maxIdleConns: number;
  /** `tls [CERT KEY] [CA]`, for `tls://` upstreams. */
  tls?: TlsFiles;
  /** `tls_servername`: the name `tls://` upstreams' certificates must carry. */
  tlsServerName?: string;
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

/** CoreDNS's default cap on exchanges per query, per upstream: two passes over the list. */
const CONNECT_ATTEMPTS_PER_UPSTREAM = 2;

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

    // As CoreDNS: a new exchange starts only before the deadline and within the attempt cap; an
    // exchange that has started may run its whole read timeout (4 s for one silent upstream).
    const maxAttempts = config.maxConnectAttempts ?? CONNECT_ATTEMPTS_PER_UPSTREAM * list.length;
    // As CoreDNS: a new TLS connection may take half the budget (all of it with one attempt).
    const tlsConnectMs = maxAttempts === 1 ? timeouts.deadlineMs : timeouts.deadlineMs / 2;
    let i = 0;
    let downs = 0;
    let attempts = 0;
    let lastError = "no healthy proxies";
    while (performance.now() < deadline && (maxAttempts === 0 || attempts < maxAttempts)) {
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
      try {
        const connectMs = Math.min(tlsConnectMs, deadline - performance.now());
        const reply = await this.#exchange(proxy, q, query, transport, connectMs);
        reply.id = q.request.id;
        q.write(reply);
        return;
      } catch (err) {
        lastError = errorMessage(err);
        if (config.maxFails !== 0) proxy.healthcheck();
        attempts++;
        if (maxAttempts !== 0 && attempts >= maxAttempts) break;
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
    tlsConnectMs: number,
  ) {
    const start = performance.now();
    const timeout = () => this.timeouts.readTimeoutMs;
    const id = randomId();
    query[0] = id >> 8;
    query[1] = id & 0xff;
    let reply = await proxy.upstream.exchange(
      query,
      q.question,
      transport,
      timeout(),
      q.udpSize,
      tlsConnectMs,
    );
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
