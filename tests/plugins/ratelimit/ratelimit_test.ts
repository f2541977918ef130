import assert from "node:assert/strict";
import { Buckets, Ratelimit, sourceKey as key } from "../../../src/plugins/ratelimit/handler.ts";
import { parseAddress } from "../../../src/plugin/netset.ts";
import { parseRatelimit } from "../../../src/plugins/ratelimit/setup.ts";
import { Rcode } from "../../../src/dns/message.ts";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { queryFrom, run } from "../acl/_helpers.ts";

function limiter(body: string, clock: () => number): Ratelimit {
  const d = parseCorefile(`. {\n ratelimit {\n${body}\n }\n}`, { file: "Corefile" }).blocks[0]
    .directives[0];
  return new Ratelimit(parseRatelimit(d, { zones: ["."] }), clock);
}

Deno.test("ratelimit: a token bucket: burst at once, then rate per second", () => {
  const b = new Buckets(10, 5, 100);
  let passed = 0;
  for (let i = 0; i < 20; i++) if (b.take("a", 0)) passed++;
  assert.equal(passed, 5, "the burst passes at once, the rest does not");
  assert.equal(b.take("a", 50), false, "half a token after 50 ms");
  assert.equal(b.take("a", 100), true, "one token after 100 ms at 10/s");
  // Over 10 s at one query per millisecond, 10/s pass (plus what was left).
  passed = 0;
  for (let t = 100; t < 10_100; t++) if (b.take("a", t)) passed++;
  assert.ok(passed >= 99 && passed <= 101, `passed ${passed}`);
  // A long idle refills to burst, not beyond.
  passed = 0;
  for (let i = 0; i < 20; i++) if (b.take("a", 1_000_000)) passed++;
  assert.equal(passed, 5);
});

Deno.test("ratelimit: memory is bounded; the least recently seen source is evicted", () => {
  const b = new Buckets(1, 1, 3);
  assert.ok(b.take("a", 0) && b.take("b", 0) && b.take("c", 0));
  assert.equal(b.take("a", 0), false, "a is empty and now the most recently seen");
  assert.ok(b.take("d", 0), "d evicts b, the least recently seen");
  assert.equal(b.size, 3);
  assert.equal(b.take("a", 0), false, "a kept its (empty) bucket");
  assert.ok(b.take("b", 0), "b was evicted, so it starts full again");
  for (let i = 0; i < 10_000; i++) b.take(`spoofed${i}`, 0);
  assert.equal(b.size, 3);
});

Deno.test("ratelimit: sources group by prefix", () => {
  const sourceKey = (a: string, v4: number, v6: number) => {
    const addr = parseAddress(a);
    return addr === null ? null : key(addr, v4, v6);
  };
  assert.equal(sourceKey("10.0.0.1", 32, 56), sourceKey("10.0.0.1", 32, 56));
  assert.notEqual(sourceKey("10.0.0.1", 32, 56), sourceKey("10.0.0.2", 32, 56));
  assert.equal(sourceKey("10.0.0.1", 24, 56), sourceKey("10.0.0.200", 24, 56));
  assert.notEqual(sourceKey("10.0.0.1", 24, 56), sourceKey("10.0.1.1", 24, 56));
  assert.equal(sourceKey("::ffff:10.0.0.1", 32, 56), sourceKey("10.0.0.1", 32, 56));
  assert.equal(sourceKey("2001:db8:0:12::1", 32, 56), sourceKey("2001:db8:0:ff::2", 32, 56));
  assert.notEqual(sourceKey("2001:db8:0:100::1", 32, 56), sourceKey("2001:db8:0:ff::2", 32, 56));
  assert.notEqual(sourceKey("2001:db8::1", 32, 128), sourceKey("2001:db8::2", 32, 128));
  assert.equal(sourceKey("nonsense", 32, 56), null);
});

Deno.test("ratelimit: over the limit is REFUSED (or dropped); allowed nets never are", async () => {
  const now = 0;
  const r = limiter("rate 2\n burst 2\n allow 127.0.0.0/8", () => now);
  const outcomes: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { passed, result } = await run(r, queryFrom("10.0.0.1"));
    outcomes.push(passed ? "next" : `rcode ${result}`);
  }
  assert.deepEqual(outcomes, ["next", "next", `rcode ${Rcode.REFUSED}`, `rcode ${Rcode.REFUSED}`]);
  assert.equal((await run(r, queryFrom("10.0.0.2"))).passed, true, "another source has its own");
  for (let i = 0; i < 100; i++) assert.equal((await run(r, queryFrom("127.0.0.9"))).passed, true);

  const d = limiter("rate 1\n action drop", () => now);
  await run(d, queryFrom("10.0.0.1"));
  const q = queryFrom("10.0.0.1");
  const { passed, result } = await run(d, q);
  assert.equal(passed, false);
  assert.equal(result, undefined);
  assert.equal(q.dropped, true);
});
