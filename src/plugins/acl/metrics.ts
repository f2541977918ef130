/** acl's metrics, under the names and labels of CoreDNS's acl plugin. */
import { metrics } from "../../metrics/registry.ts";

/** Queries answered REFUSED by a `block` policy. */
export const blockedRequests = metrics.counter(
  "coredns_acl_blocked_requests_total",
  "Counter of DNS requests being blocked.",
  ["server", "zone", "view"],
);

/** Queries answered with an empty NOERROR by a `filter` policy. */
export const filteredRequests = metrics.counter(
  "coredns_acl_filtered_requests_total",
  "Counter of DNS requests being filtered.",
  ["server", "zone", "view"],
);

/** Queries passed on to the next plugin (CoreDNS labels these without a zone). */
export const allowedRequests = metrics.counter(
  "coredns_acl_allowed_requests_total",
  "Counter of DNS requests being allowed.",
  ["server", "view"],
);

/** Queries left unanswered by a `drop` policy. */
export const droppedRequests = metrics.counter(
  "coredns_acl_dropped_requests_total",
  "Counter of DNS requests being dropped.",
  ["server", "zone", "view"],
);
