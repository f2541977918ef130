/**
 * DnsListener's UDP serving on both socket paths, and its UDP-only mode with SO_REUSEPORT (one
 * listener per worker on a shared port), against real loopback sockets.
 */
import assert from "node:assert/strict";
import { DnsListener } from "../../src/server/listener.ts";
import { compose } from "../../src/server/chain.ts";
import { ZoneRouter } from "../../src/server/router.ts";
import { Rcode } from "../../src/dns/message.ts";
import { DEFAULT_COALESCE_US } from "../../src/net/udp_listen.ts";
import type { Plugin } from "../../src/plugin/plugin.ts";
import { udpExchange } from "../helpers/dns_client.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { UDP_PATHS } from "../helpers/etcdns.ts";

/** A router whose one plugin records the sender and answers NXDOMAIN, now or after `delayMs`. */
function router(seen: Deno.NetAddr[], delayMs = 0): ZoneRouter {
  const plugin: Plugin = {
    name: "test",
    handle(q) {
      seen.push(q.remote);
      if (delayMs === 0) return Rcode.NXDOMAIN;
      return new Promise((r) => setTimeout(() => r(Rcode.NXDOMAIN), delayMs));
    },
  };
  const r = new ZoneRouter();
  r.add({ zone: ".", chain: compose([plugin]) });
  return r;
}

async function listen(l: DnsListener, r: ZoneRouter): Promise<DnsListener> {
  l.stage(r, { coalesceUs: DEFAULT_COALESCE_US, spread: "auto", threads: 1 });
  await l.start();
  return l;
}

for (const udpPath of UDP_PATHS) {
  Deno.test(`listener (udp ${udpPath}): answers now and after an await, and shows the sender`, async () => {
    for (const delayMs of [0, 30]) {
      const seen: Deno.NetAddr[] = [];
      const l = await listen(
        new DnsListener("::", 0, 10, null, { udpPath }),
        router(seen, delayMs),
      );
      try {
        assert.equal(l.nativeUdp, udpPath === "native");
        const reply = await udpExchange(l.addr!.port, makeQuery("example.org"));
        assert.ok(reply, "a reply");
        assert.equal(parseReply(reply).flags & 0xf, Rcode.NXDOMAIN);
        assert.equal(seen[0].hostname, "127.0.0.1", "an IPv4 client of '::' is shown unmapped");
        // TCP is served on the same port.
        const tcp = await Deno.connect({ hostname: "127.0.0.1", port: l.addr!.port });
        tcp.close();
      } finally {
        await l.close();
      }
    }
  });
}

Deno.test("listener: UDP-only listeners with reusePort share a port; no TCP is opened", async () => {
  const seen: Deno.NetAddr[][] = [[], []];
  const options = { udpOnly: true, reusePort: true };
  const a = await listen(new DnsListener("127.0.0.1", 0, 10, null, options), router(seen[0]));
  const b = await listen(
    new DnsListener("127.0.0.1", a.addr!.port, 10, null, options),
    router(seen[1]),
  );
  try {
    const port = a.addr!.port;
    assert.equal(b.addr!.port, port);
    for (let i = 0; i < 32; i++) assert.ok(await udpExchange(port, makeQuery("example.org")));
    assert.equal(seen[0].length + seen[1].length, 32);
    assert.ok(seen[0].length > 0 && seen[1].length > 0, "the kernel spreads senders");
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
  } finally {
    await a.close();
    await b.close();
  }
});
