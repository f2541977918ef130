/** ConnectedUdp against real loopback sockets (the test runner grants --allow-ffi). */
import assert from "node:assert/strict";
import { ConnectedUdp, ConnectionRefused, ReceiveTimeout } from "../../src/net/connected_udp.ts";
import { freePort } from "../helpers/ports.ts";
import { startUdpEcho } from "../helpers/udp_echo.ts";

function open(hostname: string, port: number): ConnectedUdp {
  const s = ConnectedUdp.open(hostname, port);
  assert.ok(s, "FFI should be available to the tests (Linux, --allow-ffi)");
  return s;
}

for (const host of ["127.0.0.1", "::1"]) {
  Deno.test(`ConnectedUdp: send and receive against an echo server on ${host}`, async () => {
    const server = startUdpEcho(host);
    const s = open(host, server.port);
    try {
      const buf = new Uint8Array(64);
      for (const word of ["hello", "again"]) {
        s.send(new TextEncoder().encode(word));
        const n = await s.receive(buf, 1000);
        assert.equal(new TextDecoder().decode(buf.subarray(0, n)), word);
      }
    } finally {
      s.close();
      await server.close();
    }
  });
}

Deno.test("ConnectedUdp: a closed port is ECONNREFUSED in well under 100 ms", async () => {
  const s = open("127.0.0.1", freePort());
  try {
    const t0 = performance.now();
    s.send(new Uint8Array(12));
    await assert.rejects(s.receive(new Uint8Array(64), 2000), ConnectionRefused);
    const ms = performance.now() - t0;
    assert.ok(ms < 100, `${ms} ms`);
  } finally {
    s.close();
  }
});

Deno.test("ConnectedUdp: a silent peer times out after the timeout", async () => {
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const s = open("127.0.0.1", (silent.addr as Deno.NetAddr).port);
  try {
    s.send(new Uint8Array(12));
    const t0 = performance.now();
    await assert.rejects(s.receive(new Uint8Array(64), 150), ReceiveTimeout);
    const ms = performance.now() - t0;
    assert.ok(ms >= 140 && ms < 1000, `${ms} ms`);
  } finally {
    s.close();
    silent.close();
  }
});

Deno.test("ConnectedUdp: close while receiving ends the receive and frees the socket", async () => {
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const before = ConnectedUdp.openCount;
  const s = open("127.0.0.1", (silent.addr as Deno.NetAddr).port);
  try {
    const t0 = performance.now();
    const pending = s.receive(new Uint8Array(64), 5000);
    setTimeout(() => s.close(), 30);
    await assert.rejects(pending, /closed/);
    assert.ok(performance.now() - t0 < 1000, "the shutdown wakes the native wait");
    assert.equal(ConnectedUdp.openCount, before, "the descriptor is closed once the wait returned");
    s.close(); // twice is fine
    assert.throws(() => s.send(new Uint8Array(1)), /closed/);
  } finally {
    silent.close();
  }
});

Deno.test("ConnectedUdp: not an IP address: null (callers fall back)", () => {
  assert.equal(ConnectedUdp.open("localhost", 53), null);
});
