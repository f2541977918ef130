/**
 * The listener loop serving this thread's native sockets polls forward's connected sockets' waits
 * with them (src/net/readiness.ts, listener_waits.ts, listener_loop.ts): a wait started while a
 * listener handles a datagram is the loop's to poll; it wakes for its reply, at its deadline, when
 * its socket is closed, and when the last listener stops (then it polls on its own).
 */
import assert from "node:assert/strict";
import { ConnectedUdp, ReceiveTimeout } from "../../src/net/connected_udp.ts";
import { readiness } from "../../src/net/readiness.ts";
import { NativeUdpSocket } from "../../src/net/udp_native.ts";
import { startUdpEcho } from "../helpers/udp_echo.ts";
import { waitFor } from "../helpers/wait.ts";

/** What a wait started in the listener's handler saw and how it ended. */
interface Exchange {
  hosted: boolean;
  socket: ConnectedUdp;
  outcome: Promise<string>;
}

/**
 * A listener whose handler, for each datagram, sends it upstream over a new connected socket and
 * receives with `timeoutMs`, noting whether the wait was the listener's to poll.
 */
function forwardingListener(upstreamPort: number, timeoutMs: number) {
  const listener = NativeUdpSocket.open("127.0.0.1", 0);
  const exchanges: Exchange[] = [];
  const serving = listener.serve((packet) => {
    const socket = ConnectedUdp.open("127.0.0.1", upstreamPort)!;
    socket.send(packet.slice());
    const before = readiness.count;
    const receiving = socket.receive(new Uint8Array(64), timeoutMs);
    const hosted = readiness.count === before + 1;
    const outcome = receiving.then(
      (n) => `reply ${n}`,
      (err) => err instanceof ReceiveTimeout ? "timeout" : `error ${err.message}`,
    ).finally(() => socket.close());
    exchanges.push({ hosted, socket, outcome });
  });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return {
    exchanges,
    listener,
    ask: () =>
      client.send(new Uint8Array([1, 2, 3]), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: listener.addr.port,
      }),
    async close() {
      client.close();
      listener.close();
      await serving;
    },
  };
}

Deno.test("readiness: a wait started by the serving listener is its to poll, and gets its reply", async () => {
  const up = startUdpEcho();
  const fwd = forwardingListener(up.port, 2000);
  try {
    for (let i = 0; i < 3; i++) {
      await fwd.ask();
      await waitFor("the listener's handler ran", () => fwd.exchanges.length === i + 1, 2000);
      const t0 = performance.now();
      assert.equal(await fwd.exchanges[i].outcome, "reply 3");
      assert.ok(fwd.exchanges[i].hosted, "the wait should be the listener's");
      assert.ok(performance.now() - t0 < 500);
    }
    assert.equal(readiness.count, 0);
  } finally {
    await fwd.close();
    await up.close();
  }
  assert.equal(ConnectedUdp.openCount, 0);
});

Deno.test("readiness: a hosted wait times out at its deadline, and a closed socket's wait ends", async () => {
  const up = startUdpEcho("127.0.0.1", null);
  const fwd = forwardingListener(up.port, 150);
  try {
    await fwd.ask();
    await waitFor("the listener's handler ran", () => fwd.exchanges.length === 1, 2000);
    const t0 = performance.now();
    assert.equal(await fwd.exchanges[0].outcome, "timeout");
    const ms = performance.now() - t0;
    assert.ok(fwd.exchanges[0].hosted);
    assert.ok(ms < 1200, `the timeout took ${ms} ms`);

    await fwd.ask();
    await waitFor("the listener's handler ran", () => fwd.exchanges.length === 2, 2000);
    fwd.exchanges[1].socket.close();
    assert.equal(await fwd.exchanges[1].outcome, "error socket is closed");
    await waitFor("the descriptor is released", () => ConnectedUdp.openCount === 0, 2000);
  } finally {
    await fwd.close();
    await up.close();
  }
});

Deno.test("readiness: when the listener stops, its waits go on polling on their own", async () => {
  const up = startUdpEcho("127.0.0.1", 300);
  const fwd = forwardingListener(up.port, 3000);
  try {
    await fwd.ask();
    await waitFor("the listener's handler ran", () => fwd.exchanges.length === 1, 2000);
    assert.ok(fwd.exchanges[0].hosted);
    fwd.listener.close();
    assert.equal(await fwd.exchanges[0].outcome, "reply 3");
    assert.equal(readiness.accepting, false, "no listener serves here now");
  } finally {
    await fwd.close();
    await up.close();
  }
});

Deno.test("readiness: a wait started while the listener idles polls on its own, at once", async () => {
  const up = startUdpEcho();
  const fwd = forwardingListener(up.port, 2000);
  const socket = ConnectedUdp.open("127.0.0.1", up.port)!;
  try {
    // The listener has nothing to read: it waits on the thread pool, with what it watched then.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      socket.send(new Uint8Array([i]));
      assert.equal(await socket.receive(new Uint8Array(8), 2000), 1);
      const ms = performance.now() - t0;
      assert.ok(ms < 300, `a health check's exchange took ${ms.toFixed(0)} ms`);
    }
  } finally {
    socket.close();
    await fwd.close();
    await up.close();
  }
});

Deno.test("readiness: with two listeners on the thread, the second's exchanges are answered too", async () => {
  const up = startUdpEcho();
  const first = forwardingListener(up.port, 2000);
  const second = forwardingListener(up.port, 2000);
  try {
    for (let i = 0; i < 5; i++) {
      for (const fwd of [first, second]) {
        await fwd.ask();
        await waitFor("the listener's handler ran", () => fwd.exchanges.length === i + 1, 2000);
        const t0 = performance.now();
        assert.equal(await fwd.exchanges[i].outcome, "reply 3");
        assert.ok(performance.now() - t0 < 500);
      }
    }
  } finally {
    await second.close();
    await first.close();
    await up.close();
  }
  assert.equal(ConnectedUdp.openCount, 0);
});
