/**
 * The native listening sockets of one thread are read by one loop (src/net/listener_loop.ts): a
 * second bound address costs the first nothing, a socket that starts serving while the loop waits
 * on the thread pool is read at once, and closing one leaves the others serving.
 */
import assert from "node:assert/strict";
import { listenerLoop } from "../../src/net/listener_loop.ts";
import { readiness } from "../../src/net/readiness.ts";
import { NativeUdpSocket } from "../../src/net/udp_native.ts";
import { pacedSender } from "../helpers/paced_sender.ts";

/** Serves `socket` as an echo. */
function echo(socket: NativeUdpSocket): Promise<void> {
  return socket.serve((packet, _remote, replyTo) => socket.send(packet.slice(), replyTo));
}

/** Sends one datagram to `port` and returns how many ms its echo took (null: none in 2 s). */
async function roundTrip(port: number): Promise<number | null> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const t0 = performance.now();
    await conn.send(new Uint8Array([7]), { transport: "udp", hostname: "127.0.0.1", port });
    const timeout = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 2000));
    const got = await Promise.race([conn.receive(), timeout]);
    return got === null ? null : performance.now() - t0;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("listener loop: with a second socket on the thread, a steady stream is still gathered", async () => {
  // Each socket used to run a loop of its own, and two loops could neither linger nor gather
  // (each would block the other): every datagram was a read and a thread-pool wait.
  const quiet = NativeUdpSocket.open("127.0.0.1", 0, { coalesceUs: 2000 });
  const busy = NativeUdpSocket.open("127.0.0.1", 0, { coalesceUs: 2000 });
  const servings = [echo(quiet), echo(busy)];
  try {
    assert.equal(listenerLoop.serving, 2);
    // One datagram every 150 µs, each window 2 ms: 19-22 reads here, and 81-105 with a loop
    // per socket.
    const count = 200;
    assert.equal(await pacedSender(busy.addr.port, count, 150), count);
    assert.ok(busy.reads < count / 5, `${busy.reads} reads for ${count} datagrams`);
    assert.ok(quiet.reads === 0, `the quiet socket was read ${quiet.reads} times`);
    assert.ok((await roundTrip(quiet.addr.port)) !== null, "the quiet socket still answers");
  } finally {
    quiet.close();
    busy.close();
    await Promise.all(servings);
  }
  assert.equal(listenerLoop.serving, 0);
  assert.equal(readiness.listeners, 0, "the loop has ended and left the poll array");
});

Deno.test("listener loop: a socket that starts serving while the loop waits on the pool is read at once", async () => {
  const first = NativeUdpSocket.open("127.0.0.1", 0);
  const servings = [echo(first)];
  const later: NativeUdpSocket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      await idle(150); // nothing to read: the loop waits on the thread pool (up to 1 s)
      const socket = NativeUdpSocket.open("127.0.0.1", 0);
      later.push(socket);
      servings.push(echo(socket));
      const ms = await roundTrip(socket.addr.port);
      assert.ok(ms !== null && ms < 500, `the new socket answered after ${ms} ms`);
    }
  } finally {
    first.close();
    later.forEach((s) => s.close());
    await Promise.all(servings);
  }
});

Deno.test("listener loop: closing one socket, even mid-wait, leaves the others serving", async () => {
  const a = NativeUdpSocket.open("127.0.0.1", 0);
  const b = NativeUdpSocket.open("127.0.0.1", 0);
  const servingA = echo(a);
  const servingB = echo(b);
  try {
    assert.ok((await roundTrip(a.addr.port)) !== null);
    await idle(150); // the loop waits on the pool, with both sockets in its poll
    const t0 = performance.now();
    a.close();
    await servingA;
    assert.ok(performance.now() - t0 < 500, "serve() of the closed socket ended promptly");
    assert.equal(listenerLoop.serving, 1);
    assert.equal(readiness.listeners, 2, "b and the loop's wake socket");
    for (let i = 0; i < 3; i++) assert.ok((await roundTrip(b.addr.port)) !== null, "b answers");
  } finally {
    a.close();
    b.close();
    await servingB;
  }
  assert.equal(listenerLoop.serving, 0);
});
