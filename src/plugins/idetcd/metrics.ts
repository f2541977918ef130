/** The claimer's metrics (the view's live in view.ts). */
import { metrics } from "../../metrics/registry.ts";

export const attempts = metrics.counter(
  "etcdns_slot_claim_attempts_total",
  "Slot claim transactions by result: won, lost (another node was faster), full, error.",
  ["pattern", "result"],
);
export const heldGauge = metrics.gauge(
  "etcdns_slot_held",
  "The slot ID this node holds (0 while it holds none).",
  ["pattern"],
);
export const leaseLosses = metrics.counter(
  "etcdns_slot_lease_lost_total",
  "Times the slot's lease was lost (expired in etcd) and the slot had to be claimed again.",
  ["pattern"],
);
export const keepaliveFailures = metrics.counter(
  "etcdns_slot_keepalive_failures_total",
  "Lease keepalives that got no answer (etcd unreachable or slow).",
  ["pattern"],
);
