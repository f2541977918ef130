/** cache's metrics, under the names and labels CoreDNS's cache plugin exports. */
import { metrics } from "../../metrics/registry.ts";

/** Entries per cache type. */
export const cacheSize = metrics.gauge(
  "coredns_cache_entries",
  "The number of elements in the cache.",
  ["server", "type", "zones", "view"],
  // Each worker thread has its own cache: the entries add up.
  "sum",
);

/** Hits per cache type. */
export const cacheHits = metrics.counter(
  "coredns_cache_hits_total",
  "The count of cache hits.",
  ["server", "type", "zones", "view"],
);

/** Misses. */
export const cacheMisses = metrics.counter(
  "coredns_cache_misses_total",
  "The count of cache misses. Deprecated, derive misses from cache hits/requests counters.",
  ["server", "zones", "view"],
);

/** Lookups. */
export const cacheRequests = metrics.counter(
  "coredns_cache_requests_total",
  "The count of cache requests.",
  ["server", "zones", "view"],
);

/** Background refreshes (prefetch, and serve_stale's refresh). */
export const cachePrefetches = metrics.counter(
  "coredns_cache_prefetch_total",
  "The number of times the cache has prefetched a cached item.",
  ["server", "zones", "view"],
);

/** Replies not cached because their question does not match the query's. */
export const cacheDrops = metrics.counter(
  "coredns_cache_drops_total",
  "The number responses that are not cached, because the reply is malformed.",
  ["server", "zones", "view"],
);

/** Expired entries served under serve_stale. */
export const servedStale = metrics.counter(
  "coredns_cache_served_stale_total",
  "The number of requests served from stale cache entries.",
  ["server", "zones", "view"],
);

/** Entries evicted because the cache was full. */
export const cacheEvictions = metrics.counter(
  "coredns_cache_evictions_total",
  "The count of cache evictions.",
  ["server", "type", "zones", "view"],
);
