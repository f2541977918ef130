import assert from "node:assert/strict";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { exposeAllThreads, gatherWorkerMetrics } from "../../src/metrics/threads.ts";
import { parsePrometheus, sampleSum } from "../plugins/prometheus/_parse.ts";

/** A thread's registry with the metrics a DNS thread records. */
function thread(requests: number, cacheEntries: number, slots: number): MetricsRegistry {
  const r = new MetricsRegistry();
  r.counter("coredns_dns_requests_total", "requests", ["proto"]).inc(["udp"], requests);
  r.gauge("coredns_cache_entries", "entries", [], "sum").set([], cacheEntries);
  r.gauge("etcdns_slot_claimed", "claimed", []).set([], slots);
  r.histogram("d", "durations", [], [0.1, 1]).observe([], 0.05 * requests);
  return r;
}

Deno.test("metrics: /metrics adds up every thread's registry", async () => {
  const main = thread(3, 10, 2);
  const workers = [thread(5, 7, 0), thread(0, 1, 0)];
  gatherWorkerMetrics(() => Promise.resolve(workers.map((w) => w.snapshot())));
  try {
    const m = parsePrometheus(await exposeAllThreads(main));
    assert.equal(sampleSum(m, "coredns_dns_requests_total"), 8, "counters add up");
    assert.equal(sampleSum(m, "coredns_cache_entries"), 18, "a 'sum' gauge adds up");
    assert.equal(sampleSum(m, "etcdns_slot_claimed"), 2, "other gauges are the main thread's");
    assert.equal(sampleSum(m, "d_count"), 3, "histograms add up");
    assert.equal(sampleSum(m, "d_bucket", { le: "0.1" }), 1);
    for (const [thread, n] of [["0", 3], ["1", 5], ["2", 0]] as const) {
      assert.equal(sampleSum(m, "etcdns_thread_dns_requests_total", { thread }), n);
    }
  } finally {
    gatherWorkerMetrics(null);
  }
  // Without workers, the registry is exposed as it is.
  assert.equal(await exposeAllThreads(main), main.expose());
});
