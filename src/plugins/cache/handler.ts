/**
 * cache: a front-end cache of whole replies, as CoreDNS's cache plugin.
 *
 * Replies are kept in two bounded maps, success (NOERROR with answers, delegations) and denial
 * (NXDOMAIN and NODATA with an SOA, and SERVFAIL for a short while), keyed by the lowercased
 * qname, qtype, qclass and the request's DO and CD bits. A hit is one map lookup; the reply is
 * built fresh for the request (its ID, flags and question) with every TTL counted down to what is
 * left of the entry's lifetime, so the cached entry itself is never handed out or changed.
 */
import {
  type DnsMessage,
  Flag,
  fqdn,
  matchZone,
  Opcode,
  opcodeOf,
  Rcode,
  rcodeOf,
} from "../../dns/message.ts";
import type { CounterHandle } from "../../metrics/registry.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";
import { otherThreads, tellOtherThreads } from "../../plugin/shared_state.ts";
import { fromShared, type SharedEntry, toShared } from "./share.ts";
import {
  cacheDrops,
  cacheEvictions,
  cacheHits,
  cacheMisses,
  cachePrefetches,
  cacheRequests,
  cacheSize,
  servedStale,
} from "./metrics.ts";

/** Capacity and TTL bounds of one cache type. */
export interface CacheClass {
  /** Most entries kept; past it the oldest entry is evicted. 0 caches nothing of this type. */
  capacity: number;
  /** Longest time an entry is kept, in seconds. */
  maxTtl: number;
  /** Shortest time an entry is kept, in seconds. */
  minTtl: number;
}

/** A cache directive, validated. */
export interface CacheConfig {
  /** Zones whose names are cached (lowercased FQDNs). */
  zones: string[];
  success: CacheClass;
  denial: CacheClass;
  /** How long SERVFAIL (and NOTIMP) replies are cached, in seconds; 0 disables. */
  servfailTtl: number;
  /** Refresh an entry seen this many times... (0 disables prefetch) */
  prefetchAmount: number;
  /** ...with no gap longer than this between hits, in milliseconds... */
  prefetchGapMs: number;
  /** ...once its remaining TTL falls to this percentage of its original TTL. */
  prefetchPercentage: number;
  /** Serve expired entries for up to this long, in seconds (0 disables serve_stale). */
  staleSeconds: number;
  /** serve_stale `verified`: ask upstream first and serve stale only when that fails. */
  staleVerify: boolean;
}

import {
  cacheKey,
  copyRecord,
  type Entry,
  isNotOpt,
  judge,
  type Kind,
  remaining,
  setTtls,
  toReply,
} from "./entry.ts";

interface Counters {
  requests: CounterHandle;
  misses: CounterHandle;
  successHits: CounterHandle;
  denialHits: CounterHandle;
  servedStale: CounterHandle;
}

/** The cache plugin instance of one server block. */
export class Cache implements Plugin {
  readonly name = "cache";
  readonly #success = new Map<string, Entry>();
  readonly #denial = new Map<string, Entry>();
  readonly #zonesLabel: string;
  /** Keys with a background refresh in flight, so a hot name is refreshed once. */
  readonly #refreshing = new Set<string>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #bound = new Map<string, Counters>();

  /**
   * `clock` gives the time in milliseconds on `performance.now`'s scale; tests pass their own to
   * age entries without waiting. Given the query, the default reads its start time: log and
   * prometheus read that clock anyway, and a clock read is a Deno op (about 10% of
   * Corefile.example's in-process cost per query went to three of them).
   */
  constructor(
    readonly config: CacheConfig,
    readonly clock: (q?: QueryContext) => number = (q) => q?.startedAt ?? performance.now(),
    /** Where this cache offers what it stores to the same cache in other threads (share.ts). */
    readonly channel: string | null = null,
  ) {
    this.#zonesLabel = config.zones.join(",");
  }

  /** Keeps an entry another thread's cache stored, unless this one holds a newer one. */
  adopt(shared: SharedEntry): void {
    const now = this.clock();
    const entry = fromShared(shared, now);
    if (remaining(entry, now) <= 0) return;
    const map = entry.kind === "success" ? this.#success : this.#denial;
    const mine = map.get(shared.key);
    if (mine !== undefined && mine.stored >= entry.stored) return;
    this.#put(map, shared.key, entry, this.config[entry.kind].capacity, null);
  }

  /** The hot-path counters of one listener, bound once (a hit then records without lookups). */
  #counters(server: string): Counters {
    let c = this.#bound.get(server);
    if (c === undefined) {
      const zones = this.#zonesLabel;
      c = {
        requests: cacheRequests.bind([server, zones, ""]),
        misses: cacheMisses.bind([server, zones, ""]),
        successHits: cacheHits.bind([server, "success", zones, ""]),
        denialHits: cacheHits.bind([server, "denial", zones, ""]),
        servedStale: servedStale.bind([server, zones, ""]),
      };
      this.#bound.set(server, c);
    }
    return c;
  }

  /** Entries per type (for tests and status). */
  get size(): { success: number; denial: number } {
    return { success: this.#success.size, denial: this.#denial.size };
  }

  /** Resolves once every background refresh has finished (tests wait on this). */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** A hit answers synchronously (no promise); a miss or a stale check waits on the chain. */
  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    if (
      matchZone(q.qname, this.config.zones) === undefined ||
      opcodeOf(q.request) !== Opcode.QUERY || q.qtype === "AXFR" || q.qtype === "IXFR"
    ) {
      return next();
    }
    const server = q.server;
    const counters = this.#counters(server);
    const key = cacheKey(q);
    const now = this.clock(q);
    counters.requests.inc();

    const entry = this.#lookup(key, now);
    if (entry === undefined) {
      counters.misses.inc();
      return this.#miss(q, next, key, server);
    }
    (entry.kind === "success" ? counters.successHits : counters.denialHits).inc();

    let ttl = remaining(entry, now);
    if (ttl <= 0) {
      if (this.config.staleVerify) {
        return this.#serveVerified(q, next, key, server, counters, entry);
      }
      this.#refreshAfterSend(q, next, key, server, entry);
      counters.servedStale.inc();
      ttl = 0;
    } else if (this.#shouldPrefetch(entry, now, ttl)) {
      this.#refreshAfterSend(q, next, key, server, entry);
    }
    q.write(toReply(entry, q, ttl));
  }

  /** serve_stale verify: asks the chain first, and serves the stale entry if that fails. */
  async #serveVerified(
    q: QueryContext,
    next: Next,
    key: string,
    server: string,
    counters: Counters,
    entry: Entry,
  ): Promise<HandlerResult> {
    const result = await this.#verifyStale(q, next, key, server);
    if (result !== null) return result.value;
    counters.servedStale.inc();
    q.write(toReply(entry, q, 0));
  }

  /** The entry for `key` that may still be served (fresh, or stale within serve_stale). */
  #lookup(key: string, now: number): Entry | undefined {
    const denial = this.#denial.get(key);
    if (this.#usable(denial, now)) return denial;
    const success = this.#success.get(key);
    return this.#usable(success, now) ? success : undefined;
  }

  #usable(e: Entry | undefined, now: number): e is Entry {
    if (e === undefined) return false;
    const ttl = remaining(e, now);
    const stale = this.config.staleSeconds;
    return ttl > 0 || (stale > 0 && -ttl < stale);
  }

  async #miss(q: QueryContext, next: Next, key: string, server: string): Promise<HandlerResult> {
    const result = await next();
    const reply = q.response;
    if (reply !== null) this.#remember(q, key, server, reply, undefined, true);
    return result;
  }

  /**
   * Judges `reply` as CoreDNS's cache does and keeps it if it may be kept. When `forClient`, also
   * sets the reply's TTLs to its lifetime (so a client never sees 1800 followed by 8), kept or
   * not, and clears AD for a client that did not ask for DNSSEC.
   */
  #remember(
    q: QueryContext,
    key: string,
    server: string,
    reply: DnsMessage,
    previous: Entry | undefined,
    forClient: boolean,
  ): void {
    const { kind, ttl } = judge(reply, this.config);
    if (kind !== null) this.#store(q, key, server, reply, previous, kind, ttl);
    if (!forClient) return;
    // CoreDNS's cache writes the reply without the upstream's OPT (the server adds its own), so
    // the upstream's EDNS options, its Extended DNS Errors included, stop here as they do there.
    if (reply.additionals.some((r) => r.type === "OPT")) {
      reply.additionals = reply.additionals.filter((r) => r.type !== "OPT");
    }
    reply.answers = setTtls(reply.answers, ttl);
    reply.authorities = setTtls(reply.authorities, ttl);
    reply.additionals = setTtls(reply.additionals, ttl);
    if (!q.do && (q.request.flags & Flag.AD) === 0) reply.flags &= ~Flag.AD;
  }

  /** Keeps `reply` under `key` for `ttl` seconds, unless it is not the answer to `q`. */
  #store(
    q: QueryContext,
    key: string,
    server: string,
    reply: DnsMessage,
    previous: Entry | undefined,
    judged: Kind | "servfail",
    ttl: number,
  ): void {
    const rq = reply.questions[0];
    if (reply.questions.length !== 1 || rq.type !== q.qtype || fqdn(rq.name) !== q.qname) {
      cacheDrops.inc([server, this.#zonesLabel, ""]);
      return;
    }
    const config = this.config;
    const kind: Kind = judged === "servfail" ? "denial" : judged;
    const capacity = config[kind].capacity;
    if (ttl <= 0 || capacity <= 0) return;

    const map = kind === "success" ? this.#success : this.#denial;
    const other = kind === "success" ? this.#denial : this.#success;
    const now = this.clock();
    const entry: Entry = {
      kind,
      rcode: rcodeOf(reply),
      flags: reply.flags & (Flag.AA | Flag.RA | Flag.AD),
      // Copies: the records belong to whoever made the reply, who may change them later.
      answers: reply.answers.map(copyRecord),
      authorities: reply.authorities.map(copyRecord),
      additionals: reply.additionals.filter(isNotOpt).map(copyRecord),
      ttl,
      stored: now,
      // A refreshed entry keeps the popularity its predecessor had gathered.
      hits: previous?.hits ?? 0,
      lastHit: previous?.lastHit ?? now,
    };
    other.delete(key);
    this.#put(map, key, entry, capacity, server);
    if (this.channel !== null && otherThreads()) {
      tellOtherThreads(this.channel, toShared(key, entry, now));
    }
  }

  /** Stores `entry`, evicting the oldest past `capacity` (counted for `server`, when known). */
  #put(
    map: Map<string, Entry>,
    key: string,
    entry: Entry,
    capacity: number,
    server: string | null,
  ): void {
    // Delete first so that the key moves to the end: the map's order is the eviction order.
    if (!map.delete(key) && map.size >= capacity) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
      if (server !== null) cacheEvictions.inc([server, entry.kind, this.#zonesLabel, ""]);
    }
    map.set(key, entry);
    // An adopted entry has no listener of its own: every listener this cache served sees it.
    for (const s of server === null ? this.#bound.keys() : [server]) {
      cacheSize.set([s, "success", this.#zonesLabel, ""], this.#success.size);
      cacheSize.set([s, "denial", this.#zonesLabel, ""], this.#denial.size);
    }
  }

  #shouldPrefetch(e: Entry, now: number, ttl: number): boolean {
    const { prefetchAmount, prefetchGapMs, prefetchPercentage } = this.config;
    if (prefetchAmount <= 0) return false;
    e.hits = now - e.lastHit > prefetchGapMs ? 1 : e.hits + 1;
    e.lastHit = now;
    const threshold = Math.ceil((prefetchPercentage / 100) * e.ttl);
    return e.hits >= prefetchAmount && ttl <= Math.max(threshold, 1);
  }

  /**
   * Refreshes `key` from the rest of the chain once the cached reply has been sent. The chain
   * writes into the same query context, whose reply is already on its way, so nothing reaches
   * the client twice.
   */
  #refreshAfterSend(q: QueryContext, next: Next, key: string, server: string, old: Entry): void {
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    q.onSent(() => {
      // Start on a microtask, after the server has finished with the query context.
      const task = Promise.resolve()
        .then(() => this.#refresh(q, next, key, server, old))
        .finally(() => {
          this.#refreshing.delete(key);
          this.#tasks.delete(task);
        });
      this.#tasks.add(task);
    });
  }

  async #refresh(q: QueryContext, next: Next, key: string, server: string, old: Entry) {
    cachePrefetches.inc([server, this.#zonesLabel, ""]);
    q.response = null;
    try {
      await next();
    } catch {
      return; // the entry stays as it is; the next query tries again
    }
    const reply = q.response as DnsMessage | null;
    if (reply !== null) this.#remember(q, key, server, reply, old, false);
  }

  /**
   * serve_stale verified: asks the chain first. A NOERROR or NXDOMAIN reply replaces the entry
   * and is returned ({value}); anything else returns null and the stale entry is served.
   */
  async #verifyStale(
    q: QueryContext,
    next: Next,
    key: string,
    server: string,
  ): Promise<{ value: HandlerResult } | null> {
    let result: HandlerResult;
    try {
      result = await next();
    } catch {
      q.response = null;
      return null;
    }
    const reply = q.response;
    if (reply !== null) {
      const rcode = rcodeOf(reply);
      if (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN) {
        this.#remember(q, key, server, reply, undefined, true);
        return { value: result };
      }
    }
    q.response = null;
    return null;
  }
}
