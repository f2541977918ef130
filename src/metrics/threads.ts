/**
 * /metrics across threads. With `workers N`, each worker thread records into its own registry
 * (module state is per thread); the main thread serves /metrics and, per scrape, asks every
 * worker for a snapshot and adds them up, so `coredns_dns_requests_total` counts the queries
 * every thread answered. The server registers how to ask; without workers nothing is asked.
 */
import { metrics, type MetricSnapshot, MetricsRegistry } from "./registry.ts";

/** Fetches every worker thread's snapshot (one list per worker). */
export type SnapshotGatherer = () => Promise<MetricSnapshot[][]>;

let gatherer: SnapshotGatherer | null = null;

/** Sets (or clears, with null) how the main thread reaches its workers' registries. */
export function gatherWorkerMetrics(g: SnapshotGatherer | null): void {
  gatherer = g;
}

/** This thread's registry plus every worker's, in the Prometheus text format. */
export async function exposeAllThreads(registry: MetricsRegistry = metrics): Promise<string> {
  const workers = gatherer === null ? [] : await gatherer();
  if (workers.length === 0) return registry.expose();
  const merged = new MetricsRegistry();
  const threads = [registry.snapshot(), ...workers];
  const perThread = merged.counter(
    "etcdns_thread_dns_requests_total",
    "DNS requests answered per thread (0 is the main thread); they add up to coredns_dns_requests_total.",
    ["thread"],
  );
  threads.forEach((snapshot, i) => {
    merged.absorb(snapshot, i === 0);
    perThread.inc([String(i)], requests(snapshot));
  });
  return merged.expose();
}

/** The total of a thread's coredns_dns_requests_total series. */
function requests(snapshot: readonly MetricSnapshot[]): number {
  const m = snapshot.find((s) => s.name === "coredns_dns_requests_total");
  return m?.series.reduce((sum, s) => sum + ("n" in s.value ? s.value.n : 0), 0) ?? 0;
}
