import assert from "node:assert/strict";
import {
  type DnsMessage,
  type KnownType,
  Rcode,
  type RecordDataByType,
  type RecordOf,
  replyTo,
  type ResourceRecord,
} from "../../../src/dns/message.ts";
import { Loadbalance, roundRobin } from "../../../src/plugins/loadbalance/handler.ts";
import { setupLoadbalance } from "../../../src/plugins/loadbalance/setup.ts";
import type { QueryContext } from "../../../src/plugin/query.ts";
import { query, setUp, setupError } from "../forward/_helpers.ts";

const rr = <T extends KnownType>(type: T, data: RecordDataByType[T]): RecordOf<T> => ({
  type,
  name: "www.example.test",
  class: "IN",
  ttl: 60,
  data,
});

function answering(records: ResourceRecord[], rcode: number = Rcode.NOERROR) {
  return (q: QueryContext) => () => {
    const r: DnsMessage = replyTo(q.request, rcode);
    r.answers = records.map((x) => ({ ...x }));
    q.write(r);
    return Promise.resolve();
  };
}

Deno.test("loadbalance: A records come back in every order, CNAMEs stay first", async () => {
  const lb = new Loadbalance({ limitAnswers: 0 });
  const records = [
    rr("A", "192.0.2.1"),
    rr("CNAME", "alias.example.test"),
    rr("A", "192.0.2.2"),
    rr("A", "192.0.2.3"),
  ];
  const orders = new Set<string>();
  for (let i = 0; i < 200 && orders.size < 6; i++) {
    const q = query("www.example.test");
    await lb.handle(q, answering(records)(q));
    const answers = q.response!.answers;
    assert.equal(answers[0].type, "CNAME");
    assert.deepEqual(answers.slice(1).map((r) => r.data).sort(), [
      "192.0.2.1",
      "192.0.2.2",
      "192.0.2.3",
    ]);
    orders.add(answers.map((r) => r.data).join(","));
  }
  assert.equal(orders.size, 6, "all 3! orders of the A records appear");
});

Deno.test("loadbalance: non-NOERROR replies are left alone; limit_answers trims", async () => {
  const records = [rr("A", "192.0.2.1"), rr("A", "192.0.2.2"), rr("A", "192.0.2.3")];
  const lb = new Loadbalance({ limitAnswers: 0 });
  for (let i = 0; i < 20; i++) {
    const q = query("www.example.test");
    await lb.handle(q, answering(records, Rcode.SERVFAIL)(q));
    assert.deepEqual(q.response!.answers.map((r) => r.data), records.map((r) => r.data));
  }
  const limited = new Loadbalance({ limitAnswers: 2 });
  const q = query("www.example.test");
  await limited.handle(q, answering(records)(q));
  assert.equal(q.response!.answers.length, 2);
});

Deno.test("loadbalance: mixed sections keep CNAME, other, address, MX order", () => {
  const out = roundRobin([
    rr("MX", { preference: 10, exchange: "mx" }),
    rr("AAAA", "2001:db8::1"),
    rr("TXT", ["t"]),
    rr("CNAME", "c"),
    rr("A", "192.0.2.1"),
  ]);
  assert.deepEqual(out.map((r) => r.type).slice(0, 2), ["CNAME", "TXT"]);
  assert.deepEqual(out.map((r) => r.type).slice(2, 4).sort(), ["A", "AAAA"]);
  assert.equal(out[4].type, "MX");
});

Deno.test("loadbalance setup: round_robin is the default; errors are clear", async () => {
  const h = await setUp(setupLoadbalance, ". {\n loadbalance\n}", "loadbalance");
  assert.deepEqual((h.plugins[0] as Loadbalance).config, { limitAnswers: 0 });
  await h.close();
  const h2 = await setUp(
    setupLoadbalance,
    ". {\n loadbalance round_robin {\n limit_answers 3\n }\n}",
    "loadbalance",
  );
  assert.deepEqual((h2.plugins[0] as Loadbalance).config, { limitAnswers: 3 });
  await h2.close();
  const cases: [string, RegExp][] = [
    ["loadbalance random", /Corefile:2 - plugin\/loadbalance: unknown policy 'random'/],
    ["loadbalance weighted w.txt", /'weighted' policy is not supported/],
    ["loadbalance round_robin extra", /takes 0 to 1 argument, got 2/],
    ["loadbalance {\n limit_answers 0\n }", /limit_answers must be between 1 and/],
    ["loadbalance {\n prefer 10.0.0.0/8\n }", /unknown property 'prefer'/],
  ];
  for (const [directive, want] of cases) {
    assert.match(setupError(setupLoadbalance, `. {\n${directive}\n}`, "loadbalance"), want);
  }
});
