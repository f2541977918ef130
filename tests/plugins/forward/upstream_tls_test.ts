import assert from "node:assert/strict";
import { Upstream } from "../../../src/plugins/forward/upstream.ts";
import { ExchangeError } from "../../../src/plugins/forward/exchange.ts";
import { encode, Flag } from "../../../src/dns/message.ts";
import { startTcpHole } from "../../helpers/tcp_hole.ts";

Deno.test("upstream: TLS handshakes that never finish are bounded, and each exchange still times out on time", async () => {
  // Accepts TCP connections and holds them, silent: no TLS handshake ever completes.
  const hole = startTcpHole();
  const up = new Upstream("127.0.0.1", hole.port, {
    expireMs: 10_000,
    tls: { serverName: "dns.test" },
  });
  const question = { name: "a.test", type: "A", class: "IN" };
  const query = encode({
    id: 1,
    type: "query",
    flags: Flag.RD,
    questions: [question],
    answers: [],
    authorities: [],
    additionals: [],
  });
  try {
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await assert.rejects(up.exchange(query, question, "udp", 1000, 512, 50), ExchangeError);
      const took = performance.now() - t0;
      assert.ok(took >= 40 && took < 500, `attempt ${i} took ${took} ms`);
    }
    // Deno cannot cancel a handshake: the ones left pending keep their connection, but no more
    // than four are ever opened.
    assert.ok(hole.held.length <= 4, `${hole.held.length} connections opened`);
  } finally {
    up.close();
    await hole.close();
  }
});
