/**
 * forward against upstreams that do not answer, timed against CoreDNS 1.15 (when its binary is
 * present): a black hole (a bound UDP port that never answers) and a dead upstream (a closed
 * port: the kernel answers ICMP port unreachable).
 *
 * CoreDNS: a black hole costs 4 s (two 2 s tries, its default max_connect_attempts of twice the
 * upstreams), then 2 s once health checks have marked it down (it still tries one upstream when
 * all are down). A closed port costs milliseconds: CoreDNS's connected UDP socket reads
 * ECONNREFUSED, and so does etcdns's (libc through FFI, src/net/). A TLS
 * upstream that never completes its handshake costs 5 s, then 2.5 s (half the 5 s budget per new
 * TLS connection), in both.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { freePort } from "../helpers/ports.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { haveCoreDns, startCoreDns } from "../helpers/coredns.ts";

function corefile(upstream: number): string {
  return `.:{PORT} {\n    bind 127.0.0.1\n    forward . 127.0.0.1:${upstream}\n}\n`;
}

/** Rcode and milliseconds of `n` queries in a row, each for a fresh name. */
async function timeQueries(port: number, n: number): Promise<{ status: string; ms: number }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await dig(port, "+time=9", `q${i}.example.test`, "A");
    out.push({ status: r.status ?? "none", ms: Math.round(performance.now() - t0) });
  }
  return out;
}

/** Asserts CoreDNS's black-hole pattern: 4 s, then 2 s once the upstream is marked down. */
function assertBlackHoleTimings(who: string, t: { status: string; ms: number }[]): void {
  const text = `${who}: ${JSON.stringify(t)}`;
  for (const q of t) assert.equal(q.status, "SERVFAIL", text);
  assert.ok(t[0].ms >= 3800 && t[0].ms < 4900, `first query ~4 s; ${text}`);
  const last = t[t.length - 1];
  assert.ok(last.ms >= 1800 && last.ms < 2900, `once marked down ~2 s; ${text}`);
}

/**
 * A refused upstream fails at once: the fastest of the queries (dig's own start-up included)
 * under 100 ms, and none anywhere near the 2 s read timeout (a loaded machine slows some).
 */
function assertFailsAtOnce(who: string, t: { status: string; ms: number }[]): void {
  const text = `${who}: ${JSON.stringify(t)}`;
  for (const q of t) assert.equal(q.status, "SERVFAIL", text);
  assert.ok(Math.min(...t.map((q) => q.ms)) < 100, text);
  assert.ok(Math.max(...t.map((q) => q.ms)) < 1000, text);
}

Deno.test("forward: a black-hole upstream costs 4 s, then 2 s, as in CoreDNS", async () => {
  const upstream = freePort();
  const hole = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: upstream });
  const srv = await startEtcdns({ corefile: corefile(upstream) });
  const core = haveCoreDns() ? await startCoreDns(corefile(upstream)) : null;
  try {
    // Both at once: each has its own sockets and health checks.
    const [ours, theirs] = await Promise.all([
      timeQueries(srv.port, 4),
      core ? timeQueries(core.port, 4) : Promise.resolve(null),
    ]);
    assertBlackHoleTimings("etcdns", ours);
    if (theirs) assertBlackHoleTimings("CoreDNS", theirs);
  } finally {
    await srv.stop();
    await core?.stop();
    hole.close();
  }
});

Deno.test("forward: a dead upstream (closed port) answers SERVFAIL in CoreDNS in under 100 ms", async () => {
  if (!haveCoreDns()) return;
  const upstream = freePort(); // nothing listens there
  const core = await startCoreDns(corefile(upstream));
  try {
    const t = await timeQueries(core.port, 3);
    assertFailsAtOnce("CoreDNS", t);
  } finally {
    await core.stop();
  }
});

Deno.test("forward: a dead upstream (closed port) answers SERVFAIL in under 100 ms", async () => {
  // A connected UDP socket through libc (src/net/) reads ECONNREFUSED, as CoreDNS's does.
  const upstream = freePort();
  const srv = await startEtcdns({ corefile: corefile(upstream) });
  try {
    assertFailsAtOnce("etcdns", await timeQueries(srv.port, 3));
  } finally {
    await srv.stop();
  }
});

Deno.test("forward: a dead upstream fails over to the next upstream at once", async () => {
  const dead = freePort();
  const live = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const livePort = (live.addr as Deno.NetAddr).port;
  // The live upstream answers every query with REFUSED: enough to tell it answered.
  const serving = (async () => {
    for (;;) {
      const [data, from] = await live.receive();
      const reply = data.slice();
      reply[2] |= 0x80;
      reply[3] = (reply[3] & 0xf0) | 5;
      await live.send(reply, from);
    }
  })().catch(() => {});
  const cf = `.:{PORT} {\n    bind 127.0.0.1\n` +
    `    forward . 127.0.0.1:${dead} 127.0.0.1:${livePort} {\n        policy sequential\n    }\n}\n`;
  const srv = await startEtcdns({ corefile: cf });
  try {
    const t = await timeQueries(srv.port, 3);
    const text = JSON.stringify(t);
    for (const q of t) assert.equal(q.status, "REFUSED", text);
    assert.ok(Math.min(...t.map((q) => q.ms)) < 100, text);
    assert.ok(Math.max(...t.map((q) => q.ms)) < 1000, text);
  } finally {
    await srv.stop();
    live.close();
    await serving;
  }
});

Deno.test("forward: a TLS upstream that never shakes hands costs 5 s, then 2.5 s, as in CoreDNS", async () => {
  // Accepts TCP connections and holds them, silent: the TLS handshake never completes.
  const hole = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of hole) held.push(c);
  })().catch(() => {});
  const port = (hole.addr as Deno.NetAddr).port;
  const tlsCorefile = `.:{PORT} {\n    bind 127.0.0.1\n` +
    `    forward . tls://127.0.0.1:${port} {\n        tls_servername dns.test\n    }\n}\n`;
  const assertTimings = (who: string, t: { status: string; ms: number }[]) => {
    const text = `${who}: ${JSON.stringify(t)}`;
    for (const q of t) assert.equal(q.status, "SERVFAIL", text);
    assert.ok(t[0].ms >= 4800 && t[0].ms < 5900, `first query ~5 s; ${text}`);
    const last = t[t.length - 1];
    assert.ok(last.ms >= 2300 && last.ms < 3400, `once marked down ~2.5 s; ${text}`);
  };
  const srv = await startEtcdns({ corefile: tlsCorefile });
  const core = haveCoreDns() ? await startCoreDns(tlsCorefile) : null;
  try {
    const [ours, theirs] = await Promise.all([
      timeQueries(srv.port, 4),
      core ? timeQueries(core.port, 4) : Promise.resolve(null),
    ]);
    assertTimings("etcdns", ours);
    if (theirs) assertTimings("CoreDNS", theirs);
  } finally {
    await srv.stop();
    await core?.stop();
    hole.close();
    for (const c of held) c.close();
    await accepting;
  }
});
