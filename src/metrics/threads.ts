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
  merged.absorb(registry.snapshot(), true);
  for (const snapshot of workers) merged.absorb(snapshot, false);
  return merged.expose();
}
