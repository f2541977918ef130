import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Acl } from "../../../src/plugins/acl/handler.ts";
import { finishEdns } from "../../../src/dns/edns.ts";
import { optOf, Rcode, rcodeOf } from "../../../src/dns/message.ts";
import { allowedRequests, blockedRequests } from "../../../src/plugins/acl/metrics.ts";
import { pluginsOf, queryFrom, run } from "./_helpers.ts";

async function acl(body: string, zones = ""): Promise<Acl> {
  return (await pluginsOf(`. {\n acl ${zones} {\n${body}\n }\n}`))[0] as Acl;
}

Deno.test("acl: nets match CIDRs and plain IPs, IPv4 and IPv6; first match wins; no match allows", async () => {
  const a = await acl(`
    allow net 192.168.1.0/24 2001:db8:1::/48
    block net 192.168.0.0/16 2001:db8::/32 10.1.2.3
    drop net fd00::1
    filter net 172.16.0.0/12`);
  const cases: [string, string][] = [
    ["192.168.1.7", "allow"],
    ["192.168.2.7", "block"],
    ["10.1.2.3", "block"],
    ["10.1.2.4", "allow"],
    ["2001:db8:1:ffff::1", "allow"],
    ["2001:db8:2::1", "block"],
    ["fd00::1", "drop"],
    ["fd00::2", "allow"],
    ["172.31.255.255", "filter"],
    ["172.32.0.0", "allow"],
    ["::ffff:192.168.2.1", "block"],
    ["127.0.0.1", "allow"],
  ];
  for (const [source, want] of cases) {
    assert.equal(a.decide("example.org.", "A", source).action, want, source);
  }
});

Deno.test("acl: types, wildcards, zones, and allow ending the check across rules", async () => {
  const a = (await pluginsOf(`. {
    acl a.example.org {
        allow net 10.0.0.1
        block type A AAAA net 10.0.0.0/8
    }
    acl {
        filter type MX
        block net *
    }
}`))[0] as Acl;
  assert.deepEqual(a.decide("x.a.example.org.", "A", "10.0.0.2"), {
    action: "block",
    zone: "a.example.org.",
  });
  // allow in the first rule ends the check: the second rule's `block net *` is not reached.
  assert.equal(a.decide("x.a.example.org.", "A", "10.0.0.1").action, "allow");
  // no policy of the first rule matches TXT: the second rule decides.
  assert.equal(a.decide("x.a.example.org.", "MX", "10.0.0.2").action, "filter");
  assert.equal(a.decide("x.a.example.org.", "TXT", "10.0.0.2").action, "block");
  assert.deepEqual(a.decide("b.example.org.", "A", "10.0.0.1"), { action: "block", zone: "." });
  // an address that does not parse is blocked, as CoreDNS does
  assert.equal(a.decide("b.example.org.", "A", "not-an-ip").action, "block");
});

Deno.test("acl: block answers REFUSED, filter an empty NOERROR, with EDE 15/17 under EDNS", async () => {
  const a = await acl("block type A net 10.0.0.0/8\n filter type AAAA net 10.0.0.0/8");
  const blocked = queryFrom("10.9.9.9", "example.org", "A", { edns: 1232 });
  const before = blockedRequests.get(["dns://127.0.0.1:53", ".", ""]);
  const r = await run(a, blocked);
  assert.equal(r.passed, false);
  assert.equal(blockedRequests.get(["dns://127.0.0.1:53", ".", ""]), before + 1);
  const reply = blocked.response!;
  finishEdns(reply, blocked.opt);
  assert.equal(rcodeOf(reply), Rcode.REFUSED);
  assert.deepEqual(reply.answers, []);
  const ede = optOf(reply)!.options;
  assert.equal(ede.length, 1);
  assert.equal(ede[0].code, 15);
  assert.deepEqual(Buffer.from(ede[0].data!), Buffer.from([0, 15]));

  const filtered = queryFrom("10.9.9.9", "example.org", "AAAA", { edns: 1232 });
  await run(a, filtered);
  finishEdns(filtered.response!, filtered.opt);
  assert.equal(rcodeOf(filtered.response!), Rcode.NOERROR);
  assert.deepEqual(filtered.response!.answers, []);
  assert.deepEqual(Buffer.from(optOf(filtered.response!)!.options[0].data!), Buffer.from([0, 17]));

  // Without EDNS from the client, no OPT at all (RFC 6891).
  const plain = queryFrom("10.9.9.9", "example.org", "A");
  await run(a, plain);
  finishEdns(plain.response!, plain.opt);
  assert.equal(optOf(plain.response!), undefined);
  assert.equal(rcodeOf(plain.response!), Rcode.REFUSED);
});

Deno.test("acl: drop marks the query unanswered; allow passes it on and counts it", async () => {
  const a = await acl("drop net 10.0.0.0/8");
  const dropped = queryFrom("10.1.1.1");
  const r = await run(a, dropped);
  assert.equal(r.passed, false);
  assert.equal(dropped.dropped, true);
  assert.equal(dropped.response, null);

  const before = allowedRequests.get(["dns://127.0.0.1:53", ""]);
  const allowed = queryFrom("11.1.1.1");
  assert.equal((await run(a, allowed)).passed, true);
  assert.equal(allowed.dropped, false);
  assert.equal(allowedRequests.get(["dns://127.0.0.1:53", ""]), before + 1);
});
