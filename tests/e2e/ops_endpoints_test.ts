/**
 * health, ready and prometheus end to end: a real etcdns with idetcd against a real etcd,
 * scraped over HTTP and queried with dig.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { putText, startEtcd } from "../helpers/etcd.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { PATTERN, waitClaimed } from "../helpers/idetcd.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";
import { parsePrometheus, sampleSum } from "../plugins/prometheus/_parse.ts";

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

Deno.test("ops endpoints: /health, /ready 503 until idetcd claims then 200, /metrics counts queries", async () => {
  const etcd = await startEtcd();
  const http = freePort();
  const prom = freePort();
  let srv;
  try {
    // The only slot is held by "another node" (this test), so idetcd starts unclaimed.
    const client = etcd.client();
    const lease = (await client.leaseGrant(30)).ID;
    await putText(client, "worker1.tf.local.", JSON.stringify({ ipv4: "192.0.2.1" }), lease);

    srv = await startEtcdns({
      corefile: `.:{PORT} {
    bind 127.0.0.1
    health 127.0.0.1:${http} {
        lameduck 2s
    }
    ready 127.0.0.1:${http}
    prometheus 127.0.0.1:${prom}
    idetcd {
        endpoint ${etcd.endpoint}
        limit 1
        lease 2
        pattern ${PATTERN}
        address 127.0.0.2
        on_full wait
    }
    whoami
}
`,
      timeoutMs: 30_000,
    });
    assert.deepEqual(await get(http, "/health"), { status: 200, body: "OK" });
    assert.deepEqual(await get(http, "/ready"), { status: 503, body: "idetcd" });

    for (const args of [["example.org", "A"], ["example.org", "A"], ["+tcp", "example.org", "A"]]) {
      assert.equal((await dig(srv.port, ...args)).status, "NOERROR");
    }
    assert.equal((await dig(srv.port, "example.org", "MX")).status, "NOERROR");
    const res = await fetch(`http://127.0.0.1:${prom}/metrics`);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const scrape = parsePrometheus(await res.text());
    const mine = { server: `dns://127.0.0.1:${srv.port}`, zone: ".", view: "" };
    const requests = (labels: Record<string, string>) =>
      sampleSum(scrape, "coredns_dns_requests_total", { ...mine, ...labels });
    assert.equal(requests({ proto: "udp", family: "1", type: "A" }), 2);
    assert.equal(requests({ proto: "tcp", type: "A" }), 1);
    assert.equal(requests({ type: "MX" }), 1);
    assert.equal(
      sampleSum(scrape, "coredns_dns_responses_total", {
        ...mine,
        rcode: "NOERROR",
        plugin: "whoami",
      }),
      4,
    );
    assert.equal(sampleSum(scrape, "coredns_dns_request_duration_seconds_count", mine), 4);
    assert.equal(sampleSum(scrape, "coredns_plugin_enabled", { ...mine, name: "idetcd" }), 1);
    assert.equal(sampleSum(scrape, "coredns_build_info"), 1);

    // The slot frees; idetcd claims it and /ready turns 200.
    await client.leaseRevoke(lease);
    assert.equal(await waitClaimed(srv), 1);
    await waitFor("/ready to answer 200", async () => (await get(http, "/ready")).status === 200);
    assert.equal((await get(http, "/ready")).body, "OK");

    // SIGTERM with lameduck 2s: /health still answers OK, /ready says it is shutting down.
    srv.signal("SIGTERM");
    await srv.waitForLine(/plugin\/health: Going into lameduck mode for 2s/);
    assert.deepEqual(await get(http, "/health"), { status: 200, body: "OK" });
    assert.deepEqual(await get(http, "/ready"), { status: 503, body: "Shutting down" });
    assert.equal((await dig(srv.port, "example.org")).status, "NOERROR");
    assert.equal((await srv.wait()).code, 0);
  } finally {
    await srv?.stop();
    await etcd.close();
  }
});
