import assert from "node:assert/strict";
import { LOAD_REPORT_TTL_MS, ThreadLoads } from "../../src/net/thread_loads.ts";

Deno.test("ThreadLoads: the sum of the threads' fresh reports, shared through the buffer", () => {
  const main = new ThreadLoads(3);
  const worker = new ThreadLoads(main.buffer); // what a worker thread makes of the init message
  assert.equal(main.total(1000), 0, "nothing reported yet");
  main.report(0, 0.25, 1000);
  worker.report(2, 0.5, 1000);
  assert.equal(main.total(1000), 0.75);
  assert.equal(worker.total(1000), 0.75);
  worker.report(2, 0.125, 1250);
  assert.equal(main.total(1250), 0.375);
});

Deno.test("ThreadLoads: a thread that stopped reporting counts as idle; an index past the end is ignored", () => {
  const loads = new ThreadLoads(2);
  loads.report(0, 0.25, 0);
  loads.report(1, 0.5, 1000);
  loads.report(2, 0.9, 1000);
  assert.equal(loads.total(1000), 0.75);
  assert.equal(loads.total(LOAD_REPORT_TTL_MS + 1), 0.5, "thread 0's report is stale");
});
