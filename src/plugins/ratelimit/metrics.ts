/**
 * ratelimit's metrics. CoreDNS has no rate limit plugin, so the names carry etcdns's own prefix
 * (no dashboard mistakes them for a CoreDNS metric); the labels are those of CoreDNS's acl.
 */
import { metrics } from "../../metrics/registry.ts";

/** Over-limit queries answered REFUSED. */
export const refusedRequests = metrics.counter(
  "etcdns_ratelimit_refused_requests_total",
  "Counter of DNS requests refused because their source was over its rate.",
  ["server", "zone", "view"],
);

/** Over-limit queries left unanswered (`action drop`). */
export const droppedRequests = metrics.counter(
  "etcdns_ratelimit_dropped_requests_total",
  "Counter of DNS requests dropped because their source was over its rate.",
  ["server", "zone", "view"],
);

/** Sources with a bucket, as of the last limited query. */
export const trackedClients = metrics.gauge(
  "etcdns_ratelimit_tracked_clients",
  "Number of client sources tracked by the rate limiter (at most max_clients).",
  ["server"],
  // Each worker thread tracks the clients it serves: the counts add up.
  "sum",
);
