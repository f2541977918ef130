/**
 * forward under a steady load, end to end: a real etcdns (one thread, no cache) in front of a real
 * dnsmasq on loopback, asked by dnsperf at 5,000 queries/s for 3 s. Every query is answered, and
 * quickly: the listener polls the upstream sockets' waits with its own (src/net/readiness.ts).
 * Before it did, each upstream reply waited for a hop through Deno's thread pool, and at this rate
 * they queued into 18-29 ms on average, against CoreDNS's 0.2 ms. The bar leaves room for a busy
 * machine: 0.84-0.94 ms here alone, 1.8-2.0 ms beside a CPU hog, 27.9 ms before the change.
 */
import assert from "node:assert/strict";
import { startDnsmasq } from "../helpers/dnsmasq.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { dnsperf, percentile } from "../../scripts/bench/dnsperf.ts";

const NAMES = 50;

Deno.test({
  name: "forward at 5,000 queries/s: all answered, median latency under 5 ms",
  // dnsperf's child process outlives a failed assertion's stack, not the test.
  sanitizeResources: false,
  fn: async () => {
    const addresses: Record<string, string> = {};
    for (let i = 0; i < NAMES; i++) addresses[`h${i}.load.test`] = `192.0.2.${i}`;
    const dm = await startDnsmasq({ addresses });
    const srv = await startEtcdns({
      corefile: `.:{PORT} {
    workers 1
    bind 127.0.0.1
    forward . ${dm.address}
}
`,
    });
    const queriesFile = await Deno.makeTempFile({ suffix: ".queries" });
    try {
      const lines = Object.keys(addresses).map((name) => `${name} A`);
      await Deno.writeTextFile(queriesFile, lines.join("\n") + "\n");
      await dnsperf({ port: srv.port, queriesFile, seconds: 1, rate: 5000 }); // sockets, JIT
      const run = await dnsperf({
        port: srv.port,
        queriesFile,
        seconds: 3,
        rate: 5000,
        latencies: true,
      });
      const p50 = percentile(run, 50) * 1000;
      const p99 = percentile(run, 99) * 1000;
      console.log(
        `forward at 5k/s: ${run.completed} answered, p50 ${p50.toFixed(2)} ms, p99 ${
          p99.toFixed(2)
        } ms`,
      );
      assert.equal(run.completed, run.sent, `lost ${run.sent - run.completed} of ${run.sent}`);
      assert.equal(run.noerror, run.completed);
      assert.ok(p50 < 5, `median latency ${p50.toFixed(2)} ms`);
    } finally {
      await Deno.remove(queriesFile);
      await srv.stop();
      await dm.close();
    }
  },
});
