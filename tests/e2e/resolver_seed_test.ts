/**
 * The seed's production Corefile (issue 5), run as written except for the upstream and etcd
 * addresses, which must be loopback test instances: cluster names from etcdhosts, everything
 * else through forward to dnsmasq, and repeated questions from the cache.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { startDnsmasq } from "../helpers/dnsmasq.ts";
import { putText, startEtcd } from "../helpers/etcd.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";

const LOG_FORMAT =
  `"{remote}:{port} - {>id} \\"{type} {class} {name} {proto} {size} {>do} {>bufsize}\\" {rcode} {>rflags} {rsize} {duration}"`;

function seedCorefile(etcd: string, upstream: string): string {
  return `. {
    bind 127.0.0.1
    cache 30 . {
        success 4096
    }
    etcdhosts . {
        fallthrough .
        key /etcdhosts
        timeout 5s
        endpoint ${etcd}
    }
    forward . ${upstream} {
        max_fails 2
        expire 20s
        policy random
        health_check 0.2s
    }
    errors
    log . ${LOG_FORMAT}
}
`;
}

function ttlOf(stdout: string, name: string): number | null {
  const m = new RegExp(`^${name.replaceAll(".", "\\.")}\\.\\s+(\\d+)\\s+IN\\s+A\\s`, "m")
    .exec(stdout);
  return m ? Number(m[1]) : null;
}

Deno.test("resolver: the seed Corefile serves etcdhosts names, forwards the rest, caches", async () => {
  const etcd = await startEtcd();
  const dm = await startDnsmasq({ addresses: { "example.test": "192.0.2.1" } });
  const port = freePort();
  let srv: Awaited<ReturnType<typeof startEtcdns>> | null = null;
  try {
    await putText(etcd.client(), "/etcdhosts", "10.0.0.5 node1.cluster.test\n");
    srv = await startEtcdns({
      corefile: seedCorefile(etcd.endpoint, dm.address),
      args: ["-dns.port", String(port)],
      port,
    });

    // A cluster name from etcdhosts (once it has loaded the key).
    const cluster = await waitFor("etcdhosts to answer", async () => {
      const r = await dig(port, "node1.cluster.test", "A");
      return r.status === "NOERROR" && /10\.0\.0\.5/.test(r.stdout) ? r : null;
    });
    assert.match(cluster.stdout, /node1\.cluster\.test\.\s+\d+\s+IN\s+A\s+10\.0\.0\.5/);

    // Anything else falls through to forward.
    const first = await dig(port, "www.example.test", "A");
    assert.equal(first.status, "NOERROR", first.stdout);
    assert.equal(ttlOf(first.stdout, "www.example.test"), 30);
    const hit = await waitFor(
      "a cache hit with a smaller TTL",
      async () => {
        const r = await dig(port, "www.example.test", "A");
        const ttl = ttlOf(r.stdout, "www.example.test");
        return ttl !== null && ttl < 30 ? r : null;
      },
      5000,
      200,
    );
    assert.match(hit.stdout, /www\.example\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/);

    // The log line has exactly the configured format.
    const line = await srv.waitForLine(/"A IN www\.example\.test\. udp /);
    assert.match(
      line,
      /^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN www\.example\.test\. udp \d+ false \d+" NOERROR qr,(aa,)?rd,ra \d+ \d+(\.\d+)?(e-\d+)?s$/,
    );
  } finally {
    await srv?.stop();
    await dm.close();
    await etcd.close();
  }
});
