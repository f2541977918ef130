// These messages carry records the fast paths decline: the whole codec is needed.
import "../../../src/dns/codec_full.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type DnsMessage,
  encode,
  Flag,
  Rcode,
  rcodeOf,
  replyTo,
  type ResourceRecord,
} from "../../../src/dns/message.ts";
import { Cache, type CacheConfig } from "../../../src/plugins/cache/handler.ts";
import { cacheEvictions, cacheHits, servedStale } from "../../../src/plugins/cache/metrics.ts";
import { parseCache } from "../../../src/plugins/cache/setup.ts";
import type { SharedEntry } from "../../../src/plugins/cache/share.ts";
import { connectThreads } from "../../../src/plugin/shared_state.ts";
import type { Next } from "../../../src/plugin/plugin.ts";
import type { QueryContext } from "../../../src/plugin/query.ts";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { query, type QueryOpts } from "../forward/_helpers.ts";

/** A cache from a Corefile `cache` line, with a clock the test moves by hand. */
function cacheFrom(directive = "cache") {
  const block = parseCorefile(`. {\n${directive}\n}`, { file: "Corefile" }).blocks[0];
  const config: CacheConfig = parseCache(block.directives[0], { zones: ["."] });
  const clock = { now: 1_000_000 };
  const cache = new Cache(config, () => clock.now);
  return { cache, clock };
}

/** A backend that answers with `reply(q)` and counts its calls. */
function backend(reply: (q: QueryContext) => DnsMessage) {
  const calls = { n: 0 };
  const next = (q: QueryContext): Next => () => {
    calls.n++;
    q.write(reply(q));
    return Promise.resolve();
  };
  return { calls, next };
}

function withA(ttl: number, ...ips: string[]) {
  return (q: QueryContext) => {
    const r = replyTo(q.request);
    r.flags |= Flag.RA;
    for (const ip of ips) {
      r.answers.push({ type: "A", name: q.question.name, class: "IN", ttl, data: ip });
    }
    return r;
  };
}

const SOA: ResourceRecord = {
  type: "SOA",
  name: "example.test",
  class: "IN",
  ttl: 600,
  data: {
    mname: "ns.example.test",
    rname: "admin.example.test",
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 60,
  },
};

async function ask(cache: Cache, next: (q: QueryContext) => Next, name: string, opts?: QueryOpts) {
  const q = query(name, "A", opts);
  await cache.handle(q, next(q));
  // What the server sends; then the sent hooks run, which start background refreshes.
  const response = q.response;
  q.sent(response ?? replyTo(q.request, Rcode.SERVFAIL), 0, 0);
  return { response };
}

function ttls(q: { response: DnsMessage | null }): number[] {
  return [...q.response!.answers, ...q.response!.authorities].map((r) => r.ttl ?? -1);
}

Deno.test("cache: a hit has the request's id, the upstream's AA (as CoreDNS 1.15), and TTLs counted down", async () => {
  const { cache, clock } = cacheFrom();
  const b = backend(withA(300, "192.0.2.1"));
  const first = await ask(cache, b.next, "example.test", { id: 1 });
  assert.deepEqual(ttls(first), [300]);
  clock.now += 42_500;
  const second = await ask(cache, b.next, "EXAMPLE.test", { id: 2 });
  assert.equal(b.calls.n, 1);
  assert.equal(second.response!.id, 2);
  assert.equal(second.response!.questions[0].name, "EXAMPLE.test");
  assert.deepEqual(ttls(second), [258]);
  assert.equal(second.response!.flags & Flag.AA, first.response!.flags & Flag.AA);
  assert.ok((second.response!.flags & Flag.RA) !== 0);
  assert.ok((second.response!.flags & Flag.QR) !== 0);
  assert.ok((second.response!.flags & Flag.RD) !== 0);
  // Each hit is a fresh copy: changing one reply does not change the next.
  second.response!.answers[0].data = "203.0.113.9";
  second.response!.answers.reverse();
  const third = await ask(cache, b.next, "example.test");
  assert.equal(third.response!.answers[0].data, "192.0.2.1");
  assert.ok(cacheHits.get(["dns://127.0.0.1:1053", "success", ".", ""]) >= 2);
});

Deno.test("cache: a hit read with a clock from just before the store keeps the stored TTL", async () => {
  // The default clock is the query's start time, which may come a moment before a store.
  const { cache, clock } = cacheFrom();
  const b = backend(withA(30, "192.0.2.1"));
  await ask(cache, b.next, "example.test");
  clock.now -= 0.5;
  assert.deepEqual(ttls(await ask(cache, b.next, "example.test")), [30]);
  assert.equal(b.calls.n, 1);
});

Deno.test("cache: an entry expires after its TTL", async () => {
  const { cache, clock } = cacheFrom();
  const b = backend(withA(30, "192.0.2.1"));
  await ask(cache, b.next, "example.test");
  clock.now += 29_000;
  await ask(cache, b.next, "example.test");
  assert.equal(b.calls.n, 1);
  clock.now += 1_000;
  await ask(cache, b.next, "example.test");
  assert.equal(b.calls.n, 2);
});

Deno.test("cache: TTLs are capped by `cache TTL` and raised to the minimum", async () => {
  const { cache, clock } = cacheFrom("cache 30");
  const b = backend(withA(3600, "192.0.2.1"));
  const first = await ask(cache, b.next, "long.test");
  assert.deepEqual(ttls(first), [30], "the first reply is capped too");
  clock.now += 10_000;
  assert.deepEqual(ttls(await ask(cache, b.next, "long.test")), [20]);

  const short = backend(withA(1, "192.0.2.2"));
  // Kept for the 5 s minimum even though the record said 1 s, and said so (as CoreDNS does).
  assert.deepEqual(ttls(await ask(cache, short.next, "short.test")), [5]);
  clock.now += 3_000;
  assert.deepEqual(ttls(await ask(cache, short.next, "short.test")), [2]);
  assert.equal(short.calls.n, 1);
});

Deno.test("cache: DO and CD are part of the key", async () => {
  const { cache } = cacheFrom();
  const b = backend(withA(300, "192.0.2.1"));
  await ask(cache, b.next, "example.test");
  await ask(cache, b.next, "example.test", { do: true });
  await ask(cache, b.next, "example.test", { cd: true });
  await ask(cache, b.next, "example.test", { do: true, cd: true });
  assert.equal(b.calls.n, 4);
  await ask(cache, b.next, "example.test", { do: true });
  await ask(cache, b.next, "example.test", { edns: 4096 }); // EDNS without DO: same as plain
  assert.equal(b.calls.n, 4);
});

Deno.test("cache: truncated replies are not cached", async () => {
  const { cache } = cacheFrom();
  const b = backend((q) => {
    const r = withA(300, "192.0.2.1")(q);
    r.flags |= Flag.TC;
    return r;
  });
  await ask(cache, b.next, "big.test");
  await ask(cache, b.next, "big.test");
  assert.equal(b.calls.n, 2);
  assert.deepEqual(cache.size, { success: 0, denial: 0 });
});

Deno.test("cache: NXDOMAIN with an SOA is cached for the SOA's TTL (as CoreDNS: not its MINIMUM), without SOA not at all", async () => {
  const { cache, clock } = cacheFrom();
  const withSoa = backend((q) => {
    const r = replyTo(q.request, Rcode.NXDOMAIN);
    r.authorities.push({ ...SOA });
    return r;
  });
  const first = await ask(cache, withSoa.next, "gone.example.test");
  assert.deepEqual(ttls(first), [600]);
  clock.now += 599_000;
  const hit = await ask(cache, withSoa.next, "gone.example.test");
  assert.equal(rcodeOf(hit.response!), Rcode.NXDOMAIN);
  assert.deepEqual(ttls(hit), [1]);
  assert.equal(withSoa.calls.n, 1);
  assert.deepEqual(cache.size, { success: 0, denial: 1 });

  const bare = backend((q) => replyTo(q.request, Rcode.NXDOMAIN));
  await ask(cache, bare.next, "bare.example.test");
  await ask(cache, bare.next, "bare.example.test");
  assert.equal(bare.calls.n, 2);
});

Deno.test("cache: NODATA without SOA is cached 5 s, as CoreDNS 1.15 caches it", async () => {
  const { cache, clock } = cacheFrom();
  const empty = backend((q) => replyTo(q.request));
  await ask(cache, empty.next, "empty.example.test");
  clock.now += 4_000;
  const hit = await ask(cache, empty.next, "empty.example.test");
  assert.equal(rcodeOf(hit.response!), Rcode.NOERROR);
  assert.equal(empty.calls.n, 1);
  clock.now += 1_000;
  await ask(cache, empty.next, "empty.example.test");
  assert.equal(empty.calls.n, 2);
});

Deno.test("cache: a CNAME chain that stops short is not an answer: a denial with SOA, else not kept", async () => {
  const chain = (soa: boolean) =>
    backend((q) => {
      const r = replyTo(q.request);
      r.answers.push({
        name: q.qname.slice(0, -1),
        type: "CNAME",
        class: "IN",
        ttl: 300,
        data: "b.test",
      });
      if (soa) r.authorities.push({ ...SOA });
      return r;
    });
  const { cache } = cacheFrom();
  const bare = chain(false);
  await ask(cache, bare.next, "alias.example.test");
  await ask(cache, bare.next, "alias.example.test");
  assert.equal(bare.calls.n, 2);
  assert.deepEqual(cache.size, { success: 0, denial: 0 });
  const withSoa = chain(true);
  await ask(cache, withSoa.next, "alias2.example.test");
  await ask(cache, withSoa.next, "alias2.example.test");
  assert.equal(withSoa.calls.n, 1);
  assert.deepEqual(cache.size, { success: 0, denial: 1 });
  const nxWithAnswer = backend((q) => {
    const r = replyTo(q.request, Rcode.NXDOMAIN);
    r.answers.push({
      name: q.qname.slice(0, -1),
      type: "CNAME",
      class: "IN",
      ttl: 300,
      data: "gone.test",
    });
    r.authorities.push({ ...SOA });
    return r;
  });
  await ask(cache, nxWithAnswer.next, "nx.example.test");
  await ask(cache, nxWithAnswer.next, "nx.example.test");
  assert.equal(nxWithAnswer.calls.n, 2);
});

Deno.test("cache: SERVFAIL is cached for 5 s (servfail 0 turns it off)", async () => {
  for (
    const [directive, cached] of [["cache", true], ["cache {\n servfail 0\n }", false]] as const
  ) {
    const { cache, clock } = cacheFrom(directive);
    const b = backend((q) => replyTo(q.request, Rcode.SERVFAIL));
    await ask(cache, b.next, "broken.test");
    clock.now += 4_000;
    await ask(cache, b.next, "broken.test");
    assert.equal(b.calls.n, cached ? 1 : 2, directive);
    clock.now += 1_000;
    await ask(cache, b.next, "broken.test");
    assert.equal(b.calls.n, cached ? 2 : 3, directive);
  }
});

Deno.test("cache: an rcode returned without a reply is not cached", async () => {
  const { cache } = cacheFrom();
  let calls = 0;
  const next = () => () => {
    calls++;
    return Promise.resolve(Rcode.SERVFAIL);
  };
  const q = await ask(cache, next, "x.test");
  assert.equal(q.response, null);
  await ask(cache, next, "x.test");
  assert.equal(calls, 2);
});

Deno.test("cache: capacity is bounded; the oldest entry is evicted", async () => {
  const { cache } = cacheFrom("cache {\n success 2\n }");
  const b = backend(withA(300, "192.0.2.1"));
  const before = cacheEvictions.get(["dns://127.0.0.1:1053", "success", ".", ""]);
  for (const n of ["a", "b", "c"]) await ask(cache, b.next, `${n}.test`);
  assert.deepEqual(cache.size, { success: 2, denial: 0 });
  assert.equal(cacheEvictions.get(["dns://127.0.0.1:1053", "success", ".", ""]), before + 1);
  await ask(cache, b.next, "c.test");
  assert.equal(b.calls.n, 3);
  await ask(cache, b.next, "a.test"); // evicted
  assert.equal(b.calls.n, 4);
});

Deno.test("cache: names outside its zones are not cached", async () => {
  const block = parseCorefile(". {\n cache example.test\n}", { file: "Corefile" }).blocks[0];
  const cache = new Cache(parseCache(block.directives[0], { zones: ["."] }));
  const b = backend(withA(300, "192.0.2.1"));
  await ask(cache, b.next, "other.test");
  await ask(cache, b.next, "other.test");
  assert.equal(b.calls.n, 2);
  await ask(cache, b.next, "www.example.test");
  await ask(cache, b.next, "www.example.test");
  assert.equal(b.calls.n, 3);
});

Deno.test("cache: AD is cleared for clients that did not ask for DNSSEC", async () => {
  const { cache } = cacheFrom();
  const b = backend((q) => {
    const r = withA(300, "192.0.2.1")(q);
    r.flags |= Flag.AD;
    return r;
  });
  const first = await ask(cache, b.next, "signed.test");
  assert.equal(first.response!.flags & Flag.AD, 0);
  const hit = await ask(cache, b.next, "signed.test");
  assert.equal(hit.response!.flags & Flag.AD, 0);
  const withDo = await ask(cache, b.next, "signed.test", { do: true });
  assert.ok((withDo.response!.flags & Flag.AD) !== 0);
});

Deno.test("cache: prefetch refreshes a popular entry before it expires", async () => {
  const { cache, clock } = cacheFrom("cache {\n prefetch 2 1m 50%\n }");
  let ip = 1;
  const b = backend((q) => withA(100, `192.0.2.${ip++}`)(q));
  await ask(cache, b.next, "hot.test"); // miss, stored with TTL 100
  clock.now += 10_000;
  await ask(cache, b.next, "hot.test"); // hit 1, 90 s left: above 50 %
  clock.now += 45_000;
  const q = await ask(cache, b.next, "hot.test"); // hit 2, 45 s left: prefetch after sending
  assert.deepEqual(ttls(q), [45]);
  await cache.settled();
  assert.equal(b.calls.n, 2);
  const fresh = await ask(cache, b.next, "hot.test");
  assert.deepEqual(fresh.response!.answers.map((r) => r.data), ["192.0.2.2"]);
  assert.deepEqual(ttls(fresh), [100]);
});

Deno.test("cache: serve_stale answers from an expired entry with TTL 0, then refreshes", async () => {
  const { cache, clock } = cacheFrom("cache {\n serve_stale 1h\n }");
  let ip = 1;
  const b = backend((q) => withA(60, `192.0.2.${ip++}`)(q));
  await ask(cache, b.next, "old.test");
  clock.now += 120_000;
  const before = servedStale.get(["dns://127.0.0.1:1053", ".", ""]);
  const stale = await ask(cache, b.next, "old.test");
  assert.deepEqual(stale.response!.answers.map((r) => `${r.data} ${r.ttl}`), ["192.0.2.1 0"]);
  assert.equal(servedStale.get(["dns://127.0.0.1:1053", ".", ""]), before + 1);
  await cache.settled();
  assert.equal(b.calls.n, 2);
  const fresh = await ask(cache, b.next, "old.test");
  assert.deepEqual(fresh.response!.answers.map((r) => r.data), ["192.0.2.2"]);

  // Past the stale window the entry is gone.
  clock.now += 3_700_000;
  await ask(cache, b.next, "old.test");
  assert.equal(b.calls.n, 3);
});

Deno.test("cache: serve_stale verified asks first and serves stale only on failure", async () => {
  const { cache, clock } = cacheFrom("cache {\n serve_stale 1h verified\n }");
  let fail = false;
  const b = backend((q) => fail ? replyTo(q.request, Rcode.SERVFAIL) : withA(60, "192.0.2.1")(q));
  await ask(cache, b.next, "v.test");
  clock.now += 120_000;
  fail = true;
  const stale = await ask(cache, b.next, "v.test");
  assert.equal(b.calls.n, 2);
  assert.equal(rcodeOf(stale.response!), Rcode.NOERROR);
  assert.deepEqual(ttls(stale), [0]);
  fail = false;
  const fresh = await ask(cache, b.next, "v.test");
  assert.equal(b.calls.n, 3);
  assert.deepEqual(ttls(fresh), [60]);
});

Deno.test("cache: capping TTLs never changes the records the backend holds", async () => {
  const { cache } = cacheFrom("cache 30");
  const held: ResourceRecord = {
    type: "A",
    name: "held.test",
    class: "IN",
    ttl: 3600,
    data: "192.0.2.7",
  };
  const b = backend((q) => {
    const r = replyTo(q.request);
    r.answers.push(held);
    return r;
  });
  const first = await ask(cache, b.next, "held.test");
  assert.deepEqual(ttls(first), [30]);
  assert.equal(held.ttl, 3600);
});

Deno.test("cache: what one thread's cache stores fills the others', with the life it has left", async () => {
  const told: unknown[] = [];
  connectThreads((_, value) => told.push(structuredClone(value)));
  try {
    const config = parseCache(
      parseCorefile(". {\ncache\n}", { file: "Corefile" }).blocks[0].directives[0],
      { zones: ["."] },
    );
    // Two threads' caches: their clocks have different origins, as performance.now() does.
    const clocks = { a: 5_000, b: 900_000 };
    const a = new Cache(config, () => clocks.a, "cache test");
    const b = new Cache(config, () => clocks.b, "cache test");
    const upstream = backend(withA(300, "192.0.2.1"));
    await ask(a, upstream.next, "example.test");
    assert.equal(told.length, 1, "the stored entry is offered to the other threads");
    clocks.a += 1_000;
    b.adopt(told[0] as SharedEntry); // at once: a message between threads takes microseconds
    clocks.b += 10_000;
    const hit = await ask(b, upstream.next, "example.test");
    assert.equal(upstream.calls.n, 1, "the other thread answers from what it was offered");
    assert.deepEqual(ttls(hit), [290]);

    // Binary data (TXT strings are Buffers) crosses as Uint8Array and is a Buffer again.
    const txt = backend((q) => {
      const r = replyTo(q.request);
      r.answers.push({
        type: "TXT",
        name: q.question.name,
        class: "IN",
        ttl: 60,
        data: [Buffer.from("hello world")],
      });
      return r;
    });
    const q = query("text.test", "TXT");
    await a.handle(q, txt.next(q));
    assert.equal(told.length, 2);
    b.adopt(told[1] as SharedEntry);
    const q2 = query("text.test", "TXT");
    await b.handle(q2, txt.next(q2));
    assert.equal(txt.calls.n, 1);
    const data = q2.response!.answers[0].data as unknown[];
    assert.ok(Buffer.isBuffer(data[0]));
    assert.equal(String(data[0]), "hello world");
    encode(q2.response!); // what the server does with it
  } finally {
    connectThreads(null);
  }
});
