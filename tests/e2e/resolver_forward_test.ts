/**
 * The resolver end to end: a real etcdns process with cache and forward in front of real dnsmasq
 * upstreams on loopback, queried with dig.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { startDnsmasq, type TestDnsmasq } from "../helpers/dnsmasq.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { waitFor } from "../helpers/wait.ts";

const NAMES = { "example.test": "192.0.2.1" };

/**
 * The issue's resolver block, with loopback upstreams. It runs a thread per core, spreading
 * even this light load (`spread always`): dig's new source port per query reaches any of them,
 * and upstream is still asked once per name, since the threads' caches fill each other.
 */
function corefile(...upstreams: TestDnsmasq[]): string {
  return `.:{PORT} {
    bind 127.0.0.1
    workers {
        spread always
    }
    cache 30 . {
        success 4096
    }
    forward . ${upstreams.map((u) => u.address).join(" ")} {
        max_fails 2
        expire 20s
        policy random
        health_check 0.2s
    }
    errors
    log
}
`;
}

/** The TTL of the first answer record dig printed for `name`, or null. */
function ttlOf(stdout: string, name: string): number | null {
  const m = new RegExp(`^${name.replaceAll(".", "\\.")}\\.\\s+(\\d+)\\s+IN\\s+A\\s`, "m")
    .exec(stdout);
  return m ? Number(m[1]) : null;
}

/** How many A queries for `name` dnsmasq has logged. */
function upstreamQueries(dm: TestDnsmasq, name: string): number {
  return dm.log().split("\n").filter((l) => l.includes(`query[A] ${name} `)).length;
}

Deno.test("resolver: forward through etcdns, then a cache hit with a smaller TTL", async () => {
  const dm = await startDnsmasq({ addresses: NAMES, args: ["--log-queries"] });
  const srv = await startEtcdns({ corefile: corefile(dm) });
  try {
    const first = await dig(srv.port, "www.example.test", "A");
    assert.equal(first.status, "NOERROR", first.stdout);
    assert.ok(first.flags.includes("qr") && first.flags.includes("ra"), first.stdout);
    // dnsmasq says 300 s; `cache 30` caps the reply (CoreDNS does the same on a miss).
    assert.equal(ttlOf(first.stdout, "www.example.test"), 30);

    // The same question again, until a second has passed: the TTL counts down, and the
    // upstream was asked only once.
    const hit = await waitFor(
      "a cache hit with a smaller TTL",
      async () => {
        const r = await dig(srv.port, "www.example.test", "A");
        const ttl = ttlOf(r.stdout, "www.example.test");
        return ttl !== null && ttl < 30 ? r : null;
      },
      5000,
      200,
    );
    assert.match(hit.stdout, /www\.example\.test\.\s+(29|28)\s+IN\s+A\s+192\.0\.2\.1/);
    assert.equal(upstreamQueries(dm, "www.example.test"), 1);

    // Over TCP the same cached answer comes back.
    const tcp = await dig(srv.port, "+tcp", "www.example.test", "A");
    assert.match(tcp.stdout, /www\.example\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/);
    assert.equal(upstreamQueries(dm, "www.example.test"), 1);
    // The log line shows both queries.
    await srv.waitForLine(/"A IN www\.example\.test\. tcp /);
  } finally {
    await srv.stop();
    await dm.close();
  }
});

Deno.test("resolver: upstreams killed and brought back", async () => {
  const dm1 = await startDnsmasq({ addresses: NAMES });
  const dm2 = await startDnsmasq({ addresses: NAMES });
  const srv = await startEtcdns({ corefile: corefile(dm1, dm2) });
  let n = 0;
  const ask = () => dig(srv.port, "+time=8", `q${n++}.example.test`, "A");
  try {
    assert.equal((await ask()).status, "NOERROR");

    // One of two killed: every query is still answered (a query that tries the dead one first
    // waits for its 2 s read timeout, then the other answers, until health checks mark it down).
    await dm1.stop();
    for (let i = 0; i < 4; i++) {
      const r = await ask();
      assert.equal(r.status, "NOERROR", r.stdout);
      assert.match(r.stdout, /IN\s+A\s+192\.0\.2\.1/);
    }

    // Both killed: SERVFAIL within forward's 5 s budget, and the server stays up.
    await dm2.stop();
    const t0 = performance.now();
    const failed = await ask();
    const took = performance.now() - t0;
    assert.equal(failed.status, "SERVFAIL", failed.stdout);
    assert.ok(took < 7000, `SERVFAIL took ${Math.round(took)} ms`);
    assert.equal(srv.exited, null, "etcdns must survive its upstreams");

    // Back up: health checks mark them up and answers flow again.
    await dm1.start();
    await dm2.start();
    await waitFor("answers to flow again", async () => (await ask()).status === "NOERROR", 15_000);
    for (let i = 0; i < 4; i++) assert.equal((await ask()).status, "NOERROR");
  } finally {
    await srv.stop();
    await dm1.close();
    await dm2.close();
  }
});
