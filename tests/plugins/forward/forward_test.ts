import assert from "node:assert/strict";
import { encode, Flag, Rcode, rcodeOf, replyTo } from "../../../src/dns/message.ts";
import { PluginError } from "../../../src/plugin/plugin.ts";
import { Forward, type ForwardTimeouts } from "../../../src/plugins/forward/handler.ts";
import {
  healthcheckFailures,
  maxConcurrentRejects,
  requestCount,
  responseCount,
} from "../../../src/plugins/forward/metrics.ts";
import { setupForward } from "../../../src/plugins/forward/setup.ts";
import { compose } from "../../../src/server/chain.ts";
import type { QueryContext } from "../../../src/plugin/query.ts";
import { startDnsmasq } from "../../helpers/dnsmasq.ts";
import { waitFor } from "../../helpers/wait.ts";
import { answerA, FakeUpstream, noNext, query, setUp } from "./_helpers.ts";

/** Short timeouts so that failure tests take about a second instead of CoreDNS's 5 s. */
const FAST: ForwardTimeouts = { readTimeoutMs: 400, deadlineMs: 1200 };

/** Timeouts long enough that a held answer is waited for, not timed out. */
const PATIENT: ForwardTimeouts = { readTimeoutMs: 3000, deadlineMs: 3000 };

/** Forward set up from one Corefile: its first plugin, every plugin, and how to close them. */
interface ForwardUnderTest {
  f: Forward;
  plugins: Forward[];
  close(): Promise<void>;
}

/** Something a test closes when it ends (an upstream). */
interface Closable {
  close(): Promise<void>;
}

/** Sets up forward from a Corefile and rebuilds it with `timeouts` (same pool). */
async function forward(corefile: string, timeouts = FAST): Promise<ForwardUnderTest> {
  const h = await setUp(setupForward, corefile, "forward");
  const plugins = h.plugins.map((p) => {
    const f = p as Forward;
    return new Forward(f.config, f.pool, timeouts);
  });
  return { f: plugins[0], plugins, close: h.close };
}

/**
 * Sets forward up from each of `corefiles`, runs `body` with them, then closes them and, after
 * them, `upstreams` (also when setup or `body` fails).
 */
async function withForwards(
  corefiles: string[],
  upstreams: Closable[],
  body: (forwards: ForwardUnderTest[]) => Promise<void>,
  timeouts = FAST,
): Promise<void> {
  const forwards: ForwardUnderTest[] = [];
  try {
    for (const corefile of corefiles) forwards.push(await forward(corefile, timeouts));
    await body(forwards);
  } finally {
    for (const c of [...forwards, ...upstreams]) await c.close();
  }
}

/** `withForwards` for one Corefile. */
function withForward(
  corefile: string,
  upstreams: Closable[],
  body: (fw: ForwardUnderTest) => Promise<void>,
  timeouts = FAST,
): Promise<void> {
  return withForwards([corefile], upstreams, ([fw]) => body(fw), timeouts);
}

/** Runs `q` through `f`; returns the rcode (from the reply, or the thrown PluginError). */
async function run(f: Forward, q: QueryContext): Promise<number> {
  try {
    const r = await f.handle(q, noNext);
    if (typeof r === "number") return r;
    assert.ok(q.response, "forward wrote no reply");
    return rcodeOf(q.response);
  } catch (err) {
    if (err instanceof PluginError) return err.rcode;
    throw err;
  }
}

/** The answer section as "TYPE data" lines. */
function answerOf(q: QueryContext): string[] {
  return (q.response?.answers ?? []).map((r) => `${r.type} ${r.data}`);
}

/**
 * An upstream that holds every answer (A 192.0.2.1) until `release()`; closing it releases
 * first, so that nothing waits on the gate.
 */
function gatedUpstream(): { up: FakeUpstream; release: () => void; close(): Promise<void> } {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => release = r);
  const up = new FakeUpstream(async (req) => {
    await gate;
    return [answerA(req, "192.0.2.1")];
  });
  return {
    up,
    release,
    close: () => {
      release();
      return up.close();
    },
  };
}

/** Two dnsmasqs answering example.test with 192.0.2.1, and a Corefile forwarding to both. */
async function twoDnsmasqs() {
  const names = { "example.test": "192.0.2.1" };
  const dm1 = await startDnsmasq({ addresses: names });
  const dm2 = await startDnsmasq({ addresses: names });
  const corefile = `. {\n forward . ${dm1.address} ${dm2.address} {\n health_check 100ms\n }\n}`;
  return { dm1, dm2, corefile };
}

Deno.test("forward answers through dnsmasq over UDP and TCP, with the client's id", async () => {
  const dm = await startDnsmasq({ addresses: { "example.test": "192.0.2.1" } });
  await withForward(`. {\n forward . ${dm.address}\n}`, [dm], async ({ f }) => {
    for (const proto of ["udp", "tcp"] as const) {
      const q = query("Example.Test", "A", { id: 777, proto });
      assert.equal(await run(f, q), Rcode.NOERROR);
      assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
      assert.equal(q.response!.id, 777);
      assert.ok((q.response!.flags & Flag.QR) !== 0, "a decoded reply keeps QR");
      assert.equal(q.response!.questions[0].name, "Example.Test");
    }
    // The sockets were kept for the next query (CoreDNS's connection reuse).
    const upstream = f.pool.proxies[0].upstream;
    assert.deepEqual(upstream.idleCount, { udp: 1, tcp: 1 });
    const to = upstream.label;
    assert.ok(requestCount.get([to]) >= 2);
    assert.ok(responseCount.get(["NOERROR", to]) >= 2);
  });
});

Deno.test("forward: expire closes idle upstream sockets", async () => {
  const dm = await startDnsmasq({ addresses: { "example.test": "192.0.2.1" } });
  await withForward(
    `. {\n forward . ${dm.address} {\n expire 100ms\n }\n}`,
    [dm],
    async ({ f }) => {
      assert.equal(await run(f, query("example.test")), Rcode.NOERROR);
      const upstream = f.pool.proxies[0].upstream;
      assert.equal(upstream.idleCount.udp, 1);
      await waitFor("the idle socket to expire", () => upstream.idleCount.udp === 0, 3000);
    },
  );
});

Deno.test("forward: names outside FROM and under except go to the next plugin", async () => {
  const corefile = `. {\n forward example.test 127.0.0.1:9 {\n except skip.example.test\n }\n}`;
  await withForward(corefile, [], async ({ f }) => {
    for (const name of ["other.org", "a.skip.example.test", "skip.example.test"]) {
      let passed = false;
      await f.handle(query(name), () => {
        passed = true;
        return Promise.resolve(Rcode.NOERROR);
      });
      assert.ok(passed, `${name} should have been passed on`);
    }
  });
});

Deno.test("forward: several forward lines chain in Corefile order", async () => {
  const a = new FakeUpstream((req) => [answerA(req, "192.0.2.10")]);
  const b = new FakeUpstream((req) => [answerA(req, "192.0.2.20")]);
  const corefile = `. {\n forward lab.test ${a.address}\n forward . ${b.address}\n}`;
  await withForward(corefile, [a, b], async ({ plugins }) => {
    const chain = compose(plugins);
    const q1 = query("x.lab.test");
    await chain(q1);
    assert.deepEqual(answerOf(q1), ["A 192.0.2.10"]);
    const q2 = query("x.other.test");
    await chain(q2);
    assert.deepEqual(answerOf(q2), ["A 192.0.2.20"]);
  });
});

Deno.test("forward: one of two upstreams killed, answers continue; it is marked down", async () => {
  const { dm1, dm2, corefile } = await twoDnsmasqs();
  await withForward(corefile, [dm1, dm2], async ({ f }) => {
    await dm1.stop();
    const [p1, p2] = f.pool.proxies;
    // The policy is random: query until one has tried dm1 first (and failed over to dm2).
    for (let i = 0; i < 40 && !p1.probing && p1.fails === 0; i++) {
      const q = query("example.test");
      assert.equal(await run(f, q), Rcode.NOERROR, `query ${i}`);
      assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
    }
    // Every query that tried dm1 first failed over to dm2 and started probing dm1: three failed
    // probes (fails > max_fails 2) mark it down, then queries go straight to dm2.
    await waitFor("dm1 to be marked down", () => p1.down(2), 8000);
    assert.equal(p2.down(2), false);
    assert.ok(healthcheckFailures.get([p1.label]) >= 3);
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) assert.equal(await run(f, query("example.test")), Rcode.NOERROR);
    assert.ok(performance.now() - t0 < FAST.readTimeoutMs, "a down upstream must be skipped");
  });
});

Deno.test("forward: both upstreams killed, SERVFAIL within the deadline; back up, healthy again", async () => {
  const { dm1, dm2, corefile } = await twoDnsmasqs();
  await withForward(corefile, [dm1, dm2], async ({ f }) => {
    assert.equal(await run(f, query("example.test")), Rcode.NOERROR);
    await dm1.stop();
    await dm2.stop();
    const t0 = performance.now();
    assert.equal(await run(f, query("example.test")), Rcode.SERVFAIL);
    const took = performance.now() - t0;
    assert.ok(took < FAST.deadlineMs + 300, `SERVFAIL took ${took} ms`);

    const [p1, p2] = f.pool.proxies;
    await waitFor("both upstreams to be marked down", () => p1.down(2) && p2.down(2), 8000);
    // All down: forward still tries one at random (health checking may be what is broken).
    assert.equal(await run(f, query("example.test")), Rcode.SERVFAIL);

    await dm1.start();
    await dm2.start();
    // The probe loops keep running while an upstream fails; the first success marks it up.
    await waitFor("both upstreams to be up", () => p1.fails === 0 && p2.fails === 0, 8000);
    assert.equal(p1.probing || p2.probing, false, "probing stops once healthy");
    const q = query("example.test");
    assert.equal(await run(f, q), Rcode.NOERROR);
    assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
  });
});

Deno.test("forward: a reply with the wrong ID or question is ignored, the right one taken", async () => {
  const up = new FakeUpstream((req) => [
    answerA({ ...req, id: (req.id + 1) & 0xffff }, "192.0.2.66"),
    answerA({ ...req, questions: [{ name: "evil.test", type: "A", class: "IN" }] }, "192.0.2.67"),
    answerA(req, "192.0.2.1"),
  ]);
  await withForward(`. {\n forward . ${up.address}\n}`, [up], async ({ f }) => {
    for (const proto of ["udp", "tcp"] as const) {
      const q = query("example.test", "A", { proto });
      assert.equal(await run(f, q), Rcode.NOERROR);
      assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
    }
  });
});

Deno.test("forward: only mismatched replies means SERVFAIL (timeout) and a health check", async () => {
  const up = new FakeUpstream((req, _proto) =>
    req.questions[0].type === "NS" ? [encode(replyTo(req))] : [
      answerA({ ...req, id: (req.id + 1) & 0xffff }, "192.0.2.66"),
    ]
  );
  await withForward(`. {\n forward . ${up.address}\n}`, [up], async ({ f }) => {
    assert.equal(await run(f, query("example.test")), Rcode.SERVFAIL);
    // The failure started a probe, which the upstream answers: it stays up.
    await waitFor("the probe", () => up.seen.some((s) => s.request.questions[0].type === "NS"));
    await waitFor("probing to end", () => !f.pool.proxies[0].probing);
    assert.equal(f.pool.proxies[0].fails, 0);
  });
});

Deno.test("forward: transports (client's by default, force_tcp, prefer_udp retries TC over TCP)", async () => {
  const truncated = (req: Parameters<typeof answerA>[0], proto: string) =>
    proto === "udp"
      ? [encode({ ...replyTo(req), flags: replyTo(req).flags | Flag.TC })]
      : [answerA(req, "192.0.2.1")];
  const up = new FakeUpstream(truncated);
  const corefiles = [
    `. {\n forward . ${up.address}\n}`,
    `. {\n forward . ${up.address} {\n force_tcp\n }\n}`,
    `. {\n forward . ${up.address} {\n prefer_udp\n }\n}`,
  ];
  await withForwards(corefiles, [up], async ([plain, tcp, udp]) => {
    // Default: a UDP client's truncated reply goes back as it is (the client retries over TCP).
    let q = query("example.test");
    await run(plain.f, q);
    assert.ok((q.response!.flags & Flag.TC) !== 0);
    assert.equal(up.seen.at(-1)!.proto, "udp");
    q = query("example.test", "A", { proto: "tcp" });
    await run(plain.f, q);
    assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
    assert.equal(up.seen.at(-1)!.proto, "tcp");

    up.seen.length = 0;
    q = query("example.test");
    await run(tcp.f, q);
    assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
    assert.deepEqual(up.seen.map((s) => s.proto), ["tcp"]);

    up.seen.length = 0;
    q = query("example.test", "A", { proto: "tcp" });
    await run(udp.f, q);
    assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
    assert.deepEqual(up.seen.map((s) => s.proto), ["udp", "tcp"]);
  });
});

Deno.test("forward: max_concurrent refuses queries past the limit", async () => {
  const gated = gatedUpstream();
  const { up, release } = gated;
  const corefile = `. {\n forward . ${up.address} {\n max_concurrent 1\n }\n}`;
  await withForward(corefile, [gated], async ({ f }) => {
    const before = maxConcurrentRejects.get();
    const first = run(f, query("one.test"));
    await waitFor("the first query to reach the upstream", () => up.seen.length === 1);
    assert.equal(await run(f, query("two.test")), Rcode.REFUSED);
    assert.equal(maxConcurrentRejects.get(), before + 1);
    release();
    assert.equal(await first, Rcode.NOERROR);
    assert.equal(await run(f, query("three.test")), Rcode.NOERROR);
  }, PATIENT);
});

Deno.test("forward: policy sequential always tries the first upstream first", async () => {
  const a = new FakeUpstream((req) => [answerA(req, "192.0.2.10")]);
  const b = new FakeUpstream((req) => [answerA(req, "192.0.2.20")]);
  const corefiles = ["sequential", "round_robin"].map((policy) =>
    `. {\n forward . ${a.address} ${b.address} {\n policy ${policy}\n }\n}`
  );
  await withForwards(corefiles, [a, b], async ([seq, rr]) => {
    for (let i = 0; i < 4; i++) {
      const q = query("example.test");
      await run(seq.f, q);
      assert.deepEqual(answerOf(q), ["A 192.0.2.10"]);
    }
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const q = query("example.test");
      await run(rr.f, q);
      seen.add(answerOf(q)[0]);
    }
    assert.deepEqual([...seen].sort(), ["A 192.0.2.10", "A 192.0.2.20"]);
  });
});

Deno.test("forward: a large UDP reply within the client's EDNS size comes through whole", async () => {
  const up = new FakeUpstream((req) => {
    const reply = replyTo(req);
    for (let i = 0; i < 150; i++) {
      reply.answers.push({
        type: "A",
        name: req.questions[0].name,
        class: "IN",
        ttl: 60,
        data: `10.0.${i >> 8}.${i & 0xff}`,
      });
    }
    return [encode(reply)];
  });
  await withForward(`. {\n forward . ${up.address}\n}`, [up], async ({ f }) => {
    const q = query("big.test", "A", { edns: 4096 });
    assert.equal(await run(f, q), Rcode.NOERROR);
    assert.equal(q.response!.answers.length, 150);
  });
});

Deno.test("forward: a cached TCP connection the upstream closed is replaced, not a failure", async () => {
  const up = new FakeUpstream((req) => [answerA(req, "192.0.2.1")]);
  await withForward(`. {\n forward . ${up.address} {\n force_tcp\n }\n}`, [up], async ({ f }) => {
    assert.equal(await run(f, query("one.test")), Rcode.NOERROR);
    assert.equal(f.pool.proxies[0].upstream.idleCount.tcp, 1);
    up.dropConnections();
    const t0 = performance.now();
    const q = query("two.test");
    assert.equal(await run(f, q), Rcode.NOERROR);
    assert.deepEqual(answerOf(q), ["A 192.0.2.1"]);
    assert.ok(performance.now() - t0 < FAST.readTimeoutMs, "no timeout on the dead connection");
    assert.equal(f.pool.proxies[0].probing, false, "not counted as an upstream failure");
  });
});

Deno.test("forward: a query tries two exchanges per upstream (CoreDNS's max_connect_attempts default), or the configured cap", async () => {
  const silent = new FakeUpstream(() => []);
  const silent2 = new FakeUpstream(() => []);
  const asked = (name: string) =>
    [silent, silent2].reduce(
      (n, u) => n + u.seen.filter((s) => s.request.questions[0].name === name).length,
      0,
    );
  // max_fails 0: no health probes, so every query the upstreams see is an exchange.
  const corefiles = [
    `. {\n forward . ${silent.address} ${silent2.address} {\n max_fails 0\n }\n}`,
    `. {\n forward . ${silent.address} {\n max_fails 0\n max_connect_attempts 1\n }\n}`,
  ];
  await withForwards(corefiles, [silent, silent2], async ([two, one]) => {
    assert.equal(await run(two.f, query("two.test")), Rcode.SERVFAIL);
    assert.equal(asked("two.test"), 4, "two passes over two upstreams");
    const t0 = performance.now();
    assert.equal(await run(one.f, query("one.test")), Rcode.SERVFAIL);
    assert.equal(asked("one.test"), 1);
    assert.ok(performance.now() - t0 < 400, "one 100 ms try");
  }, { readTimeoutMs: 100, deadlineMs: 5000 });
});

Deno.test("forward: max_idle_conns bounds the sockets kept per upstream", async () => {
  const gated = gatedUpstream();
  const { up, release } = gated;
  const corefile = `. {\n forward . ${up.address} {\n max_idle_conns 1\n }\n}`;
  await withForward(corefile, [gated], async ({ f }) => {
    const pending = [1, 2, 3].map((i) => run(f, query(`q${i}.test`)));
    await waitFor("three queries to reach the upstream", () => up.seen.length === 3);
    release();
    assert.deepEqual(await Promise.all(pending), [Rcode.NOERROR, Rcode.NOERROR, Rcode.NOERROR]);
    assert.deepEqual(f.pool.proxies[0].upstream.idleCount, { udp: 1, tcp: 0 });
  }, PATIENT);
});
