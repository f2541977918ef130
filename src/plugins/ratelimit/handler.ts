/**
 * ratelimit: a token bucket per client network. Each source (grouped by `ipv4_prefix` and
 * `ipv6_prefix`) may send `rate` queries per second on average and `burst` at once; a query over
 * that gets REFUSED, or no reply with `action drop`. At most `max_clients` buckets are kept; the
 * least recently seen is evicted first, so memory stays bounded whatever the sources.
 */
import { matchZone, Rcode } from "../../dns/message.ts";
import type { CounterHandle } from "../../metrics/registry.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";
import { type Address, type NetSet, parseAddress, wordMask } from "../../plugin/netset.ts";
import { droppedRequests, refusedRequests, trackedClients } from "./metrics.ts";

/** A ratelimit directive, validated. */
export interface RatelimitConfig {
  zones: string[];
  /** Queries per second per source, on average. */
  rate: number;
  /** Queries a source may send at once (the bucket's size). */
  burst: number;
  /** Prefix lengths that group sources into one bucket. */
  ipv4Prefix: number;
  ipv6Prefix: number;
  /** What an over-limit query gets. */
  action: "refuse" | "drop";
  /** Sources never limited. */
  allow: NetSet;
  /** Most buckets kept. */
  maxClients: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in milliseconds. */
  at: number;
}

/** The token buckets of one ratelimit instance, least recently used first. */
export class Buckets {
  readonly #map = new Map<string | number, Bucket>();
  readonly #perMs: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly maxClients: number,
  ) {
    this.#perMs = rate / 1000;
  }

  /** How many sources are tracked. */
  get size(): number {
    return this.#map.size;
  }

  /** Takes one token from `key`'s bucket at time `now` (ms); false when it is empty. */
  take(key: string | number, now: number): boolean {
    const map = this.#map;
    let b = map.get(key);
    if (b === undefined) {
      if (map.size >= this.maxClients) {
        // The first key in a Map is the least recently (re)inserted: the least recently seen.
        map.delete(map.keys().next().value!);
      }
      b = { tokens: this.burst, at: now };
    } else {
      map.delete(key); // re-inserted below, as the most recently seen
      const tokens = b.tokens + (now - b.at) * this.#perMs;
      b.tokens = tokens > this.burst ? this.burst : tokens;
      b.at = now;
    }
    map.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/**
 * The bucket key of a client address: its network at the prefixes, an IPv4 network as a number
 * (no string per query), an IPv6 network as its masked words in hex.
 */
export function sourceKey(addr: Address, ipv4Prefix: number, ipv6Prefix: number): string | number {
  if (typeof addr === "number") return (addr & wordMask(ipv4Prefix)) >>> 0;
  let key = "";
  for (let i = 0; i < 4; i++) {
    const bits = ipv6Prefix - 32 * i;
    if (bits <= 0) break;
    key += ((addr[i] & wordMask(bits)) >>> 0).toString(16) + ":";
  }
  return key;
}

interface Counters {
  refused: CounterHandle;
  dropped: CounterHandle;
}

/** The ratelimit plugin of one server block. */
export class Ratelimit implements Plugin {
  readonly name = "ratelimit";
  readonly buckets: Buckets;
  readonly #counters = new Map<string, Counters>();

  /** `clock` gives milliseconds (default performance.now); tests pass their own. */
  constructor(
    readonly config: RatelimitConfig,
    readonly clock: () => number = () => performance.now(),
  ) {
    this.buckets = new Buckets(config.rate, config.burst, config.maxClients);
  }

  /** Whether a query from `remote` may pass now (allowed sources always may). */
  admit(remote: string): boolean {
    const c = this.config;
    const addr = parseAddress(remote, true);
    if (addr === null || c.allow.has(addr)) return true;
    return this.buckets.take(sourceKey(addr, c.ipv4Prefix, c.ipv6Prefix), this.clock());
  }

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    const zone = matchZone(q.qname, this.config.zones);
    if (zone === undefined || this.admit(q.remote.hostname)) return next();
    const key = `${q.server}\u0000${zone}`;
    let counters = this.#counters.get(key);
    if (counters === undefined) {
      counters = {
        refused: refusedRequests.bind([q.server, zone, ""]),
        dropped: droppedRequests.bind([q.server, zone, ""]),
      };
      this.#counters.set(key, counters);
    }
    trackedClients.set([q.server], this.buckets.size);
    if (this.config.action === "drop") {
      counters.dropped.inc();
      q.drop();
      return;
    }
    counters.refused.inc();
    return Rcode.REFUSED;
  }
}
