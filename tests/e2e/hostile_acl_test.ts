/**
 * Restricting clients end to end: acl and ratelimit in a real etcdns, with real sockets bound to
 * distinct loopback sources (127.0.0.1, 127.0.0.2 and ::1), and dig.
 */
import assert from "node:assert/strict";
import { dig, digAt } from "../helpers/dig.ts";
import { tcpExchange } from "../helpers/dns_client.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { makeQuery } from "../helpers/query.ts";
import { waitFor } from "../helpers/wait.ts";
import { Rcode } from "../../src/dns/message.ts";

Deno.test("acl allowing 127.0.0.0/8: ::1 is REFUSED (EDE Blocked), drop sends nothing on UDP or TCP", async () => {
  const prom = freePort();
  const srv = await startEtcdns({
    corefile: `.:{PORT} {
    bind 127.0.0.1 ::1
    prometheus 127.0.0.1:${prom}
    acl {
        allow net 127.0.0.0/8
        block
    }
    whoami
}
drop.test:{PORT} {
    bind 127.0.0.1 ::1
    acl {
        allow net 127.0.0.0/8
        drop
    }
    whoami
}
`,
  });
  try {
    const allowed = await digAt("127.0.0.1", srv.port, "example.org");
    assert.equal(allowed.status, "NOERROR", allowed.stdout);

    const blocked = await digAt("::1", srv.port, "example.org");
    assert.equal(blocked.status, "REFUSED", blocked.stdout);
    assert.match(blocked.stdout, /EDE: 15 \(Blocked\)/);
    assert.match(blocked.stdout, /ANSWER: 0,/);
    const plain = await digAt("::1", srv.port, "+noedns", "example.org");
    assert.equal(plain.status, "REFUSED");
    assert.doesNotMatch(plain.stdout, /OPT PSEUDOSECTION/, "no OPT to a client without EDNS");
    assert.equal((await digAt("::1", srv.port, "+tcp", "example.org")).status, "REFUSED");

    // drop: UDP gets no reply at all (dig times out)...
    assert.equal((await digAt("127.0.0.1", srv.port, "x.drop.test")).status, "NOERROR");
    const dropped = await digAt("::1", srv.port, "x.drop.test");
    assert.equal(dropped.status, null, dropped.stdout);
    assert.match(dropped.stdout, /timed out|no servers could be reached/);
    // ...and over TCP nothing is written for the dropped query, while the connection stays
    // open and the next query on it (blocked, in `.`) is answered.
    const replies = await tcpExchange(srv.port, [
      makeQuery("x.drop.test", "A", { id: 1111 }),
      makeQuery("example.org", "A", { id: 2222 }),
    ], { hostname: "::1", idleMs: 1000 });
    assert.deepEqual(replies.map((r) => (r[0] << 8) | r[1]), [2222]);

    const metrics = await (await fetch(`http://127.0.0.1:${prom}/metrics`)).text();
    assert.match(
      metrics,
      /coredns_acl_dropped_requests_total\{server="dns:\/\/\[::1\]:\d+",zone="drop\.test\.",view=""\} 2/,
    );
    assert.match(
      metrics,
      /coredns_acl_blocked_requests_total\{server="dns:\/\/\[::1\]:\d+",zone="\.",view=""\} 4/,
    );
    assert.match(
      metrics,
      /coredns_acl_allowed_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",view=""\} 2/,
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("ratelimit holds a flooding source to its rate; another source is answered in full", async () => {
  const RATE = 20;
  const BURST = 20;
  const srv = await startEtcdns({
    corefile: `.:{PORT} {
    bind 127.0.0.1
    ratelimit {
        rate ${RATE}
        burst ${BURST}
    }
    whoami
}
`,
  });
  // The flooder: 127.0.0.2, 500 queries per second for 3 seconds.
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port: 0 });
  try {
    const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: srv.port };
    const counts = { answered: 0, refused: 0, other: 0 };
    const receiving = (async () => {
      try {
        for (;;) {
          const [data] = await sock.receive();
          const rcode = data[3] & 0xf;
          if (rcode === Rcode.NOERROR) counts.answered++;
          else if (rcode === Rcode.REFUSED) counts.refused++;
          else counts.other++;
        }
      } catch { /* closed */ }
    })();

    let sent = 0;
    const started = performance.now();
    const FLOOD_MS = 3000;
    const flooding = (async () => {
      while (performance.now() - started < FLOOD_MS) {
        for (let i = 0; i < 5; i++) {
          await sock.send(makeQuery("flood.example.org", "A", { id: sent++ & 0xffff }), target);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Meanwhile the other source, 127.0.0.1, asks with dig at a quarter of the rate (pacing,
    // not waiting: a source under its rate is never limited, whatever the flooder does).
    const other: string[] = [];
    while (performance.now() - started < FLOOD_MS) {
      const asked = performance.now();
      other.push((await dig(srv.port, "-b", "127.0.0.1", "calm.example.org")).status ?? "none");
      const pause = 4000 / RATE - (performance.now() - asked);
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
    await flooding;
    const elapsed = (performance.now() - started) / 1000;
    await waitFor("every flood reply", () => counts.answered + counts.refused >= sent, 3000)
      .catch(() => {});
    sock.close();
    await receiving;

    const expected = BURST + RATE * elapsed;
    console.log(
      `flooder 127.0.0.2: sent ${sent} in ${elapsed.toFixed(2)} s, answered ${counts.answered} ` +
        `(${(counts.answered / elapsed).toFixed(1)}/s; expected about ${expected.toFixed(0)}), ` +
        `refused ${counts.refused}; other source 127.0.0.1: ${
          other.filter((s) => s === "NOERROR").length
        }/${other.length} answered`,
    );
    assert.ok(sent >= 10 * RATE * 3, `the flood sent ${sent}, at least ten times the rate`);
    assert.equal(counts.other, 0);
    assert.ok(
      Math.abs(counts.answered - expected) <= Math.max(8, expected * 0.15),
      `answered ${counts.answered}, expected about ${expected.toFixed(0)}`,
    );
    assert.ok(counts.refused >= sent - counts.answered - sent * 0.02, "the rest was REFUSED");
    assert.ok(other.length >= 10, `the other source asked ${other.length} times`);
    assert.deepEqual(other.filter((s) => s !== "NOERROR"), [], "every calm query answered");
  } finally {
    try {
      sock.close();
    } catch { /* closed */ }
    await srv.stop();
  }
});
