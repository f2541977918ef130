/**
 * Spreading a SO_REUSEPORT group's datagrams (src/net/udp_spread.ts): gathered on one socket
 * while the load is light, spread by the kernel when that socket's thread gets busy, gathered
 * again when the group is idle; "always" leaves the kernel's hash alone.
 */
import assert from "node:assert/strict";
import { openUdpSocket, type UdpSocket } from "../../src/net/udp_listen.ts";
import {
  decideSpread,
  GatherProbe,
  PROBE_BACKOFF_MAX_MS,
  PROBE_BACKOFF_MS,
  PROBE_LIGHTER,
  PROBE_WATCH_MS,
  type UdpSpread,
} from "../../src/net/udp_spread.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("decideSpread: busy receivers spread, a light group gathers, between them nothing", () => {
  assert.equal(decideSpread(0.8, true, 0.8), "spread");
  assert.equal(decideSpread(0.8, false, 0.8), null, "a thread busy with something else");
  assert.equal(decideSpread(0.05, true, 0.1), "gather");
  assert.equal(decideSpread(0.05, true, 0.4), "gather", "whoami at 15k/s spread: 0.27 gathered");
  assert.equal(decideSpread(0.3, true, 0.6), null);
  assert.equal(decideSpread(0.21, true, 0.62), null, "an uneven split: the other thread is busier");
  assert.equal(decideSpread(0, false, 0), "gather");
  // A moderate load is gathered only by a socket allowed to try (the main thread's, not backing off).
  assert.equal(decideSpread(0.29, true, 0.58), null);
  assert.equal(
    decideSpread(0.29, true, 0.58, true),
    "gather",
    "cache hits at 15k/s: 0.28 gathered",
  );
  assert.equal(decideSpread(0.45, true, 0.8, true), null, "too much for one thread to try");
  assert.equal(decideSpread(0.6, true, 0.6, true), "spread", "a busy thread spreads all the same");
});

Deno.test("GatherProbe: a try that spreads again at once backs off, doubling; one that holds resets", () => {
  const L = 0.6; // a moderate load, the same at every try
  const p = new GatherProbe();
  assert.ok(p.allowed(0, L));
  p.gathered(1000, L);
  p.spread(1250); // busy at its next look: failed
  assert.ok(!p.allowed(1250 + PROBE_BACKOFF_MS - 1, L));
  assert.ok(p.allowed(1250 + PROBE_BACKOFF_MS, L));
  let now = 1250 + PROBE_BACKOFF_MS;
  p.gathered(now, L);
  p.spread(now + 250);
  assert.ok(!p.allowed(now + 250 + 2 * PROBE_BACKOFF_MS - 1, L), "the wait doubled");
  for (let i = 0; i < 10; i++) {
    now += PROBE_BACKOFF_MAX_MS + 1000;
    p.gathered(now, L);
    p.spread(now + 250);
  }
  assert.ok(p.allowed(now + 250 + PROBE_BACKOFF_MAX_MS, L), "never more than the most");
  // A try that held PROBE_WATCH_MS: the wait starts afresh, and a later spread is not a failure.
  now += 2 * PROBE_BACKOFF_MAX_MS;
  p.gathered(now, L);
  p.held(now + PROBE_WATCH_MS);
  p.spread(now + PROBE_WATCH_MS + 5000);
  assert.ok(p.allowed(now + PROBE_WATCH_MS + 5000, L));
  p.gathered(now + 10_000, L);
  p.spread(now + 10_250);
  assert.ok(p.allowed(now + 10_250 + PROBE_BACKOFF_MS, L), "back to the first wait");
  // A spread with no try under watch (a load that grew) does not delay the next try.
  const q = new GatherProbe();
  q.spread(500);
  assert.ok(q.allowed(500, L));
});

Deno.test("GatherProbe: a load well under the one a try failed at is tried at once", () => {
  const p = new GatherProbe();
  p.gathered(1000, 0.7); // a peak's load, gathered: too much for one thread
  p.spread(1250);
  assert.ok(!p.allowed(1500, 0.6), "a little lighter waits out the back-off");
  assert.ok(p.allowed(1500, 0.7 * PROBE_LIGHTER - 0.01), "whoami at 15k/s after the peak: 0.46");
});

/** Two sockets of one group, counting what each receives; `load.spinMs` of CPU per datagram. */
function group(spread: UdpSpread) {
  const load = { spinMs: 0 };
  const a = openUdpSocket("127.0.0.1", 0, { path: "native", reusePort: true, spread });
  const b = openUdpSocket("127.0.0.1", a.addr.port, { path: "native", reusePort: true, spread });
  const counts = [0, 0];
  const serve = (s: UdpSocket, i: number) =>
    s.serve((packet, _remote, replyTo) => {
      counts[i]++;
      const until = performance.now() + load.spinMs;
      while (performance.now() < until) { /* a busy handler */ }
      s.send(packet.slice(), replyTo);
    });
  const servings = [serve(a, 0), serve(b, 1)];
  const clients = Array.from(
    { length: 32 },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: a.addr.port };
  return {
    a,
    b,
    counts,
    load,
    /** One datagram from each client (32 source ports), and every reply read. */
    async round(): Promise<void> {
      for (const c of clients) await c.send(new Uint8Array([1, 2, 3]), to);
      await Promise.all(clients.map((c) => c.receive()));
    },
    async close(): Promise<void> {
      clients.forEach((c) => c.close());
      a.close();
      b.close();
      await Promise.all(servings);
    },
  };
}

/** Sends rounds until one lands wholly on the group's first socket (its samples gathered it). */
async function gathered(g: ReturnType<typeof group>): Promise<void> {
  await waitFor("the light load to be gathered on the first socket", async () => {
    const before = [...g.counts];
    await g.round();
    await new Promise((r) => setTimeout(r, 50));
    return g.counts[0] - before[0] === 32 && g.counts[1] === before[1];
  }, 10_000);
}

/** Loads the group until its busy socket spreads, and the second socket gets datagrams. */
async function busySpell(g: ReturnType<typeof group>): Promise<void> {
  // Each datagram costs 4 ms of CPU: 32 per round keep the thread busy well past half its time.
  g.load.spinMs = 4;
  const before = g.counts[1];
  await waitFor("the busy socket to spread the load", async () => {
    await g.round();
    return g.counts[1] > before;
  }, 10_000);
}

Deno.test("udp spread auto: a light load is gathered on one socket of the group", async () => {
  const g = group({ sockets: 2, mode: "auto" });
  try {
    await gathered(g);
    const before = [...g.counts];
    for (let i = 0; i < 3; i++) await g.round();
    assert.deepEqual([g.counts[0] - before[0], g.counts[1] - before[1]], [96, 0]);
  } finally {
    await g.close();
  }
});

Deno.test("udp spread always: the kernel's hash reaches both sockets", async () => {
  const g = group({ sockets: 2, mode: "always" });
  try {
    await g.round();
    assert.ok(g.counts[0] > 0 && g.counts[1] > 0, `spread: ${g.counts}`);
  } finally {
    await g.close();
  }
});

Deno.test("udp spread: switching a live group to always spreads it at once", async () => {
  const g = group({ sockets: 2, mode: "auto" });
  try {
    await gathered(g);
    g.a.spread = { sockets: 2, mode: "always" };
    const before = g.counts[1];
    await g.round();
    assert.ok(g.counts[1] > before, `spread: ${g.counts}`);
  } finally {
    await g.close();
  }
});

Deno.test("udp spread auto: a busy thread spreads the load and says so, an idle group gathers again", async () => {
  let told = 0;
  const g = group({ sockets: 2, mode: "auto", onSpread: () => told++ });
  try {
    await gathered(g);
    await busySpell(g);
    assert.ok(told > 0, "onSpread was called");
    g.load.spinMs = 0;
    await new Promise((r) => setTimeout(r, 1200));
    await gathered(g);
  } finally {
    await g.close();
  }
});

Deno.test("udp spread auto: a moderate load left spread after a busy spell is tried gathered, and stays", async () => {
  const g = group({ sockets: 2, mode: "auto" });
  try {
    await gathered(g);
    await busySpell(g);
    // About 0.25-0.35 of a core (24 ms of handling per round, a round every ~80 ms): as two
    // sockets of one thread, the group's load reads 0.5-0.7, over the plain gathering threshold
    // and under the one for trying, so only a try gathers it; one socket then carries it.
    g.load.spinMs = 0.75;
    const paced = async () => {
      await g.round();
      await new Promise((r) => setTimeout(r, 55));
    };
    await waitFor(
      "the moderate load to be tried gathered",
      async () => {
        const start = [...g.counts];
        await paced();
        return g.counts[0] - start[0] === 32 && g.counts[1] === start[1];
      },
      10_000,
      0,
    );
    const start = [...g.counts];
    for (let i = 0; i < 12; i++) await paced(); // a second and more: past a try's watch
    assert.deepEqual(
      [g.counts[0] - start[0], g.counts[1] - start[1]],
      [384, 0],
      "it stayed gathered",
    );
  } finally {
    await g.close();
  }
});
