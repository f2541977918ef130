/**
 * Bad input: 10,000 random and mutated packets at a running server. It must keep answering and
 * never exit. Bounded in count and time; the seed is printed so a failure can be replayed.
 */
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { startEtcdns, UDP_PATHS } from "../helpers/etcdns.ts";
import { makeQuery } from "../helpers/query.ts";
import { udpExchange } from "../helpers/dns_client.ts";
import { waitFor } from "../helpers/wait.ts";

const PACKETS = 10_000;
const BURST = 250;

function packets(rand: () => number): Uint8Array[] {
  const int = (n: number) => Math.floor(rand() * n);
  const seeds = [
    makeQuery("example.org", "A"),
    makeQuery("www.example.org", "AAAA", { edns: 1232, do: true }),
    makeQuery("_udp.x.example.org", "SRV", { edns: 4096 }),
    makeQuery("1.0.0.127.in-addr.arpa", "PTR"),
  ];
  const out: Uint8Array[] = [];
  for (let i = 0; i < PACKETS; i++) {
    const kind = int(4);
    if (kind === 0) {
      out.push(crypto.getRandomValues(new Uint8Array(int(600))));
      continue;
    }
    const p = seeds[int(seeds.length)].slice();
    if (kind === 1) {
      for (let f = 1 + int(4); f > 0; f--) p[int(p.length)] = int(256); // flip bytes
      out.push(p);
    } else if (kind === 2) {
      out.push(p.subarray(0, int(p.length))); // truncated
    } else {
      p[4 + int(8)] = int(256); // a wild section count
      p[2] &= 0x7f; // keep it a query so it reaches the decoder
      out.push(p);
    }
  }
  return out;
}

for (const udp of UDP_PATHS) {
  Deno.test(`10,000 random and mutated packets never stop the server (udp ${udp})`, async () => {
    const seed = Number(Deno.env.get("ETCDNS_FUZZ_SEED") ?? Date.now() % 2 ** 31);
    console.log(`fuzz seed ${seed} (replay with ETCDNS_FUZZ_SEED=${seed})`);
    const srv = await startEtcdns({
      corefile: "example.org:{PORT} {\n    whoami\n}\n",
      env: { ETCDNS_UDP: udp },
    });
    const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    // Drain replies so the socket buffer never fills; their content does not matter here.
    const drain = (async () => {
      try {
        for (;;) await sock.receive();
      } catch { /* closed */ }
    })();
    const deadline = Date.now() + 60_000;
    try {
      const all = packets(prng(seed));
      const to = { transport: "udp" as const, hostname: "127.0.0.1", port: srv.port };
      for (let i = 0; i < all.length && Date.now() < deadline; i += BURST) {
        await Promise.all(all.slice(i, i + BURST).map((p) => sock.send(p, to)));
        // A burst overflows the socket's receive buffer, so the kernel drops some datagrams,
        // the probe's included; like any client, the probe retries. It also paces the bursts.
        await waitFor(
          `an answer after ${i + BURST} packets`,
          async () => {
            assert.equal(srv.exited, null, `the server exited:\n${srv.output}`);
            return (await udpExchange(srv.port, makeQuery("example.org"), 500)) !== null;
          },
          10_000,
          0,
        );
      }
      // A few garbage TCP streams too: bad lengths, short frames, abrupt closes.
      const rand = prng(seed + 1);
      for (let c = 0; c < 20; c++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
        const bytes = crypto.getRandomValues(new Uint8Array(1 + Math.floor(rand() * 300)));
        await conn.write(bytes).catch(() => {});
        conn.close();
      }
      assert.ok(Date.now() < deadline, "the fuzz run stayed within its time bound");
      assert.equal(srv.exited, null, `the server exited:\n${srv.output}`);
      assert.equal((await dig(srv.port, "example.org")).status, "NOERROR");
      assert.equal((await dig(srv.port, "+tcp", "example.org")).status, "NOERROR");
    } finally {
      sock.close();
      await drain;
      await srv.stop();
    }
  });
}
