/**
 * Memory under a UDP flood (issue 12): 200,000 malformed packets must not leave the server
 * holding memory in proportion to the flood. Figures for every scenario, and CoreDNS's, come
 * from scripts/bench/memory.ts; this test keeps the bound from regressing.
 */
import assert from "node:assert/strict";
import { memoryStatus, toMiB, waitForSettledRss } from "../../scripts/bench/rss.ts";
import { udpExchange, udpSweep } from "../helpers/dns_client.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { floodMalformed } from "../helpers/flood.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { Rcode, rcodeOf } from "../../src/dns/message.ts";

Deno.test("200,000 more malformed packets leave RSS within 1.2x of the warmed-up idle RSS", async () => {
  // Every thread from the start (`spread always`): with the default, the flood itself would
  // start the second thread, a fixed cost this test is not about.
  const corefile = ".:{PORT} {\n    workers {\n        spread always\n    }\n    whoami\n}\n";
  const srv = await startEtcdns({ corefile });
  try {
    // First traffic of any kind compiles the hot path and grows V8's heap to its working size
    // once (about 10 MB: scripts/bench/memory.ts reports it from a cold start); that is start-up,
    // not the flood, so the idle figure is taken after some of both. What this test catches is
    // memory that grows with the number of packets: 100 bytes kept per packet would be 20 MB.
    await floodMalformed(srv.port, { count: 50_000, window: 32, unanswered: 128 });
    const queries = Array.from({ length: 2_000 }, () => makeQuery("example.org", "A"));
    await udpSweep(srv.port, queries, { window: 64, timeoutMs: 2000 });
    const idle = await waitForSettledRss(srv.pid, { timeoutMs: 10_000 });

    // Closed loop: the server handles (nearly) all 200,000, not what the kernel leaves.
    const flood = await floodMalformed(srv.port, { count: 200_000, window: 32, unanswered: 128 });
    const peak = memoryStatus(srv.pid).peakKiB;
    const bar = idle * 1.2;
    const after = await waitForSettledRss(srv.pid, { targetKiB: bar, timeoutMs: 20_000 });
    const figures = `idle ${toMiB(idle)} MiB, peak ${toMiB(peak)} MiB, after ${toMiB(after)} MiB ` +
      `(${flood.sent} sent in ${Math.round(flood.ms)} ms, ${flood.answered} answered)`;
    console.log(figures);
    assert.ok(flood.answered > 150_000, `the server answered too little of the flood: ${figures}`);
    assert.ok(after <= bar, `RSS stayed above 1.2x idle: ${figures}`);

    // And it still answers properly.
    const reply = await udpExchange(srv.port, makeQuery("example.org", "A"));
    assert.ok(reply, "no reply after the flood");
    const answer = parseReply(reply);
    assert.equal(rcodeOf(answer), Rcode.NOERROR);
    assert.ok(answer.additionals.some((r) => r.type === "A"), "whoami's A record is missing");
  } finally {
    await srv.stop();
  }
});
