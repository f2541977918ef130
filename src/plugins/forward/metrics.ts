/** forward's metrics, under the names and labels CoreDNS's forward plugin exports. */
import { DURATION_BUCKETS, metrics } from "../../metrics/registry.ts";

/** Queries sent per upstream. */
export const requestCount = metrics.counter(
  "coredns_forward_requests_total",
  "Counter of requests made per upstream.",
  ["to"],
);

/** Replies per upstream and rcode. */
export const responseCount = metrics.counter(
  "coredns_forward_responses_total",
  "Counter of responses received per upstream.",
  ["rcode", "to"],
);

/** Exchange time per upstream and rcode. */
export const requestDuration = metrics.histogram(
  "coredns_forward_request_duration_seconds",
  "Histogram of the time each request took.",
  ["to", "rcode"],
  DURATION_BUCKETS,
);

/** Failed health probes per upstream. */
export const healthcheckFailures = metrics.counter(
  "coredns_forward_healthcheck_failures_total",
  "Counter of the number of failed healthchecks.",
  ["to"],
);

/** Queries sent to a random upstream because every upstream was marked down. */
export const healthcheckBroken = metrics.counter(
  "coredns_forward_healthcheck_broken_total",
  "Counter of the number of complete failures of the healthchecks.",
);

/** Queries refused because `max_concurrent` queries were already in flight. */
export const maxConcurrentRejects = metrics.counter(
  "coredns_forward_max_concurrent_rejects_total",
  "Counter of the number of queries rejected because the concurrent queries were at maximum.",
);
