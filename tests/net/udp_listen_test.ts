/**
 * Listening UDP sockets, native (libc recvmmsg/sendmmsg) and Deno, against real loopback sockets.
 * The test runner grants --allow-ffi, so "auto" is the native path here; the fallback is tested in
 * a subprocess without it.
 */
import assert from "node:assert/strict";
import {
  nativeUdpAvailable,
  openUdpSocket,
  type UdpPath,
  type UdpSocket,
} from "../../src/net/udp_listen.ts";
import { ipv6Text } from "../../src/net/peer.ts";
import { NativeUdpSocket } from "../../src/net/udp_native.ts";
import { pacedSender } from "../helpers/paced_sender.ts";
import { waitFor } from "../helpers/wait.ts";

const text = new TextEncoder();
const untext = new TextDecoder();

/** An echo server on `socket`: each datagram back to its sender, with the sender's address. */
function echo(socket: UdpSocket, seen: Deno.NetAddr[] = []): Promise<void> {
  return socket.serve((packet, remote, replyTo) => {
    seen.push(remote);
    socket.send(packet.slice(), replyTo);
  });
}

/** A client socket and a reader of its replies. */
function client(hostname = "127.0.0.1") {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  return {
    conn,
    port: (conn.addr as Deno.NetAddr).port,
    send: (payload: string, port: number, to = hostname) =>
      conn.send(text.encode(payload), { transport: "udp", hostname: to, port }),
    async receive(ms = 2000): Promise<string | null> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), ms));
      try {
        const got = await Promise.race([conn.receive(), timeout]);
        return got === null ? null : untext.decode(got[0]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => conn.close(),
  };
}

for (const path of ["native", "deno"] as UdpPath[]) {
  Deno.test(`udp ${path}: port 0 binds a real port and echoes on 127.0.0.1`, async () => {
    const socket = openUdpSocket("127.0.0.1", 0, { path });
    assert.equal(socket.native, path === "native");
    assert.notEqual(socket.addr.port, 0);
    assert.equal(socket.addr.hostname, "127.0.0.1");
    const seen: Deno.NetAddr[] = [];
    const serving = echo(socket, seen);
    const c = client();
    try {
      await c.send("hello", socket.addr.port);
      assert.equal(await c.receive(), "hello");
      assert.deepEqual({ ...seen[0] }, { transport: "udp", hostname: "127.0.0.1", port: c.port });
    } finally {
      c.close();
      socket.close();
      await serving;
    }
  });

  Deno.test(`udp ${path}: IPv6 ::1, and "::" answers v4 and v6 with v4 shown unmapped`, async () => {
    for (const [bind, from] of [["::1", ["::1"]], ["::", ["127.0.0.1", "::1"]]] as const) {
      const socket = openUdpSocket(bind, 0, { path });
      assert.equal(socket.addr.hostname, bind);
      const seen: Deno.NetAddr[] = [];
      const serving = echo(socket, seen);
      try {
        for (const host of from) {
          const c = client(host);
          try {
            await c.send(`hi ${host}`, socket.addr.port);
            assert.equal(await c.receive(), `hi ${host}`);
            assert.equal(seen.at(-1)!.hostname, host);
            assert.equal(seen.at(-1)!.port, c.port);
          } finally {
            c.close();
          }
        }
      } finally {
        socket.close();
        await serving;
      }
    }
  });

  Deno.test(`udp ${path}: a burst from many senders is all answered`, async () => {
    const socket = openUdpSocket("127.0.0.1", 0, { path, batch: 8 });
    const serving = echo(socket);
    const clients = Array.from({ length: 20 }, () => client());
    try {
      // 20 senders x 10 datagrams, all sent before the server reads: batches fill.
      await Promise.all(clients.map(async (c, i) => {
        for (let k = 0; k < 10; k++) await c.send(`${i}/${k}`, socket.addr.port);
      }));
      for (const [i, c] of clients.entries()) {
        const got = new Set<string>();
        for (let k = 0; k < 10; k++) got.add((await c.receive()) ?? "lost");
        assert.deepEqual([...got].sort(), Array.from({ length: 10 }, (_, k) => `${i}/${k}`).sort());
      }
      assert.equal(socket.dropped, 0);
    } finally {
      clients.forEach((c) => c.close());
      socket.close();
      await serving;
    }
  });

  Deno.test(`udp ${path}: replies sent later (after an await) still go out`, async () => {
    const socket = openUdpSocket("127.0.0.1", 0, { path });
    const serving = socket.serve((packet, _remote, replyTo) => {
      const copy = packet.slice();
      setTimeout(() => socket.send(copy, replyTo), 20);
    });
    const c = client();
    try {
      await c.send("later", socket.addr.port);
      assert.equal(await c.receive(), "later");
      // send() to an address given as text works too.
      socket.send(text.encode("direct"), { transport: "udp", hostname: "127.0.0.1", port: c.port });
      assert.equal(await c.receive(), "direct");
    } finally {
      c.close();
      socket.close();
      await serving;
    }
  });

  Deno.test(`udp ${path}: close() ends a pending serve promptly`, async () => {
    const socket = openUdpSocket("127.0.0.1", 0, { path });
    const serving = socket.serve(() => {});
    await new Promise((r) => setTimeout(r, 50)); // let it reach its wait
    const started = performance.now();
    socket.close();
    socket.close();
    await serving;
    assert.ok(performance.now() - started < 500, "serve ended well before the poll timeout");
  });

  Deno.test(`udp ${path}: a reply that cannot be sent is dropped, counted and reported`, async () => {
    const reported: number[] = [];
    const socket = openUdpSocket("127.0.0.1", 0, { path, onDropped: (n) => reported.push(n) });
    try {
      socket.send(new Uint8Array(12), { transport: "udp", hostname: "not-an-address", port: 53 });
      await waitFor("the drop", () => socket.dropped === 1, 2000);
      assert.deepEqual(reported, [1]);
    } finally {
      socket.close();
    }
  });

  Deno.test(`udp ${path}: a taken port is an error without reusePort`, async () => {
    const first = openUdpSocket("127.0.0.1", 0, { path });
    try {
      assert.throws(() => openUdpSocket("127.0.0.1", first.addr.port, { path: "native" }));
      assert.throws(() => openUdpSocket("127.0.0.1", first.addr.port, { path: "deno" }));
    } finally {
      first.close();
      await first.serve(() => {}).catch(() => {});
    }
  });
}

Deno.test("udp: the native path is available to the tests, unless asked for Deno's", () => {
  assert.equal(nativeUdpAvailable(), true);
  assert.equal(nativeUdpAvailable({ path: "deno" }), false);
});

Deno.test("udp deno: reusePort is ignored, so a second socket on the port fails", async () => {
  const first = openUdpSocket("127.0.0.1", 0, { path: "deno", reusePort: true });
  try {
    assert.throws(() =>
      openUdpSocket("127.0.0.1", first.addr.port, { path: "deno", reusePort: true })
    );
  } finally {
    first.close();
    await first.serve(() => {}).catch(() => {});
  }
});

Deno.test("udp native: a handler that throws does not stop the socket", async () => {
  const socket = openUdpSocket("127.0.0.1", 0, { path: "native" });
  let calls = 0;
  const serving = socket.serve((packet, _remote, replyTo) => {
    if (calls++ === 0) throw new Error("boom");
    socket.send(packet.slice(), replyTo);
  });
  const c = client();
  try {
    await c.send("first", socket.addr.port);
    await waitFor("the first datagram was handled", () => calls === 1, 2000);
    await c.send("second", socket.addr.port);
    assert.equal(await c.receive(), "second");
  } finally {
    c.close();
    socket.close();
    await serving;
  }
});

Deno.test("udp native: two SO_REUSEPORT sockets share a port and both receive", async () => {
  const a = openUdpSocket("127.0.0.1", 0, { path: "native", reusePort: true });
  const b = openUdpSocket("127.0.0.1", a.addr.port, { path: "native", reusePort: true });
  const counts = [0, 0];
  const servings = [a, b].map((s, i) =>
    s.serve((packet, _remote, replyTo) => {
      counts[i]++;
      s.send(packet.slice(), replyTo);
    })
  );
  // The kernel picks a socket by a hash of the sender's address: many senders reach both.
  const clients = Array.from({ length: 32 }, () => client());
  try {
    for (const c of clients) await c.send("x", a.addr.port);
    for (const c of clients) assert.equal(await c.receive(), "x");
    await waitFor("both sockets received", () => counts[0] + counts[1] === 32, 2000);
    assert.ok(counts[0] > 0 && counts[1] > 0, `spread: ${counts}`);
  } finally {
    clients.forEach((c) => c.close());
    a.close();
    b.close();
    await Promise.all(servings);
  }
});

Deno.test("udp native: a steady stream is gathered into fewer reads, and every datagram answered", async () => {
  const socket = NativeUdpSocket.open("127.0.0.1", 0, { coalesceUs: 1000 });
  assert.equal(socket.coalesceUs, 1000);
  const serving = echo(socket);
  try {
    // One datagram every 100 µs: a 1 ms window gathers several per wake-up.
    const count = 200; // few enough that the replies fit the sender's receive buffer
    assert.equal(await pacedSender(socket.addr.port, count, 100), count);
    const reads = socket.reads;
    assert.ok(reads < count / 2, `${reads} reads for ${count} datagrams`);
    // After the stream, a lone datagram is still answered at once (the window has ended).
    const c = client();
    try {
      const t0 = performance.now();
      await c.send("alone", socket.addr.port);
      assert.equal(await c.receive(), "alone");
      assert.ok(performance.now() - t0 < 500, "a lone datagram waited");
    } finally {
      c.close();
    }
    // Settable while serving; 0 turns it off and datagrams are still answered.
    socket.coalesceUs = 0;
    assert.equal(socket.coalesceUs, 0);
    assert.equal(await pacedSender(socket.addr.port, 200, 100), 200);
  } finally {
    socket.close();
    await serving;
  }
});

Deno.test("udp native: a socket left unread keeps a deep queue (SO_RCVBUF), not Linux's 208 KiB", async () => {
  // As root (CI) SO_RCVBUFFORCE passes net.core.rmem_max; elsewhere that sysctl caps the queue.
  const rmemMax = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_max"));
  const deep = Deno.uid() === 0 || rmemMax >= 1 << 20;
  const socket = NativeUdpSocket.open("127.0.0.1", 0);
  const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let received = 0;
  try {
    // Not served yet: as if its thread were stalled. Each small datagram costs about 1 KiB of
    // the queue, so the default queue keeps some 200 of these.
    const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: socket.addr.port };
    for (let i = 0; i < 1500; i++) await sender.send(new Uint8Array(40), to);
    const serving = socket.serve(() => received++);
    await waitFor("the queue was read", () => received > 0, 2000);
    await new Promise((r) => setTimeout(r, 100));
    socket.close();
    await serving;
    if (deep) assert.equal(received, 1500);
    else assert.ok(received > 0);
  } finally {
    sender.close();
    socket.close();
  }
});

Deno.test("ipv6Text prints addresses as Deno (Rust) does", () => {
  const cases = ["::", "::1", "fe80::1", "2001:db8::1:0:0:1", "2001:db8:0:1:1:1:1:1", "1::"];
  cases.push("::ffff:10.0.0.1", "2001:0:0:1::1");
  for (const want of cases) {
    const bytes = v6Bytes(want);
    assert.equal(ipv6Text(bytes, 0), want);
  }
});

/** The 16 bytes of an IPv6 literal in the canonical form above (test helper). */
function v6Bytes(literal: string): Uint8Array {
  const out = new Uint8Array(16);
  const v4 = literal.match(/^::ffff:(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    out.set([0xff, 0xff, ...v4.slice(1).map(Number)], 10);
    return out;
  }
  const [head, tail] = literal.includes("::") ? literal.split("::") : [literal, null];
  const h = head ? head.split(":").map((g) => parseInt(g, 16)) : [];
  const t = tail ? tail.split(":").map((g) => parseInt(g, 16)) : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  groups.forEach((g, i) => out.set([g >> 8, g & 0xff], 2 * i));
  return out;
}

Deno.test("udp: without --allow-ffi, auto falls back to Deno sockets and still answers", async () => {
  const script = `
    import { nativeUdpAvailable, openUdpSocket } from ${
    JSON.stringify(new URL("../../src/net/udp_listen.ts", import.meta.url).href)
  };
    const s = openUdpSocket("127.0.0.1", 0);
    const c = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const serving = s.serve((p, _r, to) => s.send(p.slice(), to));
    await c.send(new Uint8Array([7]), { transport: "udp", hostname: "127.0.0.1", port: s.addr.port });
    const [d] = await c.receive();
    console.log(JSON.stringify({ native: s.native, echoed: d[0] }));
    c.close(); s.close(); await serving;
    let refused = false;
    try { openUdpSocket("127.0.0.1", 0, { path: "native" }); } catch { refused = true; }
    console.log(JSON.stringify({ refused, available: nativeUdpAvailable() }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--unstable-net", "--allow-net", "--allow-env", "--allow-read", "-"],
    env: { ETCDNS_DEBUG: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = out.stdin.getWriter();
  await writer.write(text.encode(script));
  await writer.close();
  const { code, stdout, stderr } = await out.output();
  const lines = untext.decode(stdout).trim().split("\n");
  assert.equal(code, 0, untext.decode(stderr));
  assert.ok(
    lines.some((l) => /udp: Deno sockets: the native path is not available: --allow-ffi/.test(l)),
    lines.join("\n"),
  );
  assert.deepEqual(JSON.parse(lines.at(-2)!), { native: false, echoed: 7 });
  assert.deepEqual(JSON.parse(lines.at(-1)!), { refused: true, available: false });
});
