/**
 * EDNS options in an upstream's reply reach the client through forward, as through CoreDNS:
 * dnsmasq with nowhere to forward answers REFUSED with Extended DNS Error 14 (Not Ready).
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { startDnsmasq } from "../helpers/dnsmasq.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { haveCoreDns, startCoreDns } from "../helpers/coredns.ts";

Deno.test("forward: an upstream's Extended DNS Error reaches the client, as through CoreDNS", async () => {
  const dm = await startDnsmasq();
  const corefile = `.:{PORT} {\n    bind 127.0.0.1\n    forward . ${dm.address}\n}\n`;
  const srv = await startEtcdns({ corefile });
  try {
    const direct = await dig(dm.port, "elsewhere.test", "A");
    assert.match(direct.stdout, /; EDE: 14 \(Not Ready\)/, "dnsmasq itself sends the EDE");

    const ours = await dig(srv.port, "elsewhere.test", "A");
    assert.equal(ours.status, "REFUSED", ours.stdout);
    assert.match(ours.stdout, /; EDE: 14 \(Not Ready\)/, ours.stdout);
    // Our OPT, with the upstream's option: our advertised size, not dnsmasq's.
    assert.match(ours.stdout, /; EDNS: version: 0, flags:; udp: 1232/, ours.stdout);
    // Without EDNS in the query there is no OPT in the reply at all.
    const plain = await dig(srv.port, "+noedns", "elsewhere.test", "A");
    assert.doesNotMatch(plain.stdout, /OPT PSEUDOSECTION|EDE/, plain.stdout);

    if (haveCoreDns()) {
      const core = await startCoreDns(corefile);
      try {
        const theirs = await dig(core.port, "elsewhere.test", "A");
        assert.equal(theirs.status, "REFUSED", theirs.stdout);
        assert.match(theirs.stdout, /; EDE: 14 \(Not Ready\)/, theirs.stdout);
      } finally {
        await core.stop();
      }
    }
  } finally {
    await srv.stop();
    await dm.close();
  }
});
