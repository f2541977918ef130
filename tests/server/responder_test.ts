import assert from "node:assert/strict";
import { Flag, optOf, Rcode, rcodeOf, replyTo } from "../../src/dns/message.ts";
import type { Plugin } from "../../src/plugin/plugin.ts";
import { PluginError } from "../../src/plugin/plugin.ts";
import { compose } from "../../src/server/chain.ts";
import { answerPacket, respond } from "../../src/server/responder.ts";
import { ZoneRouter } from "../../src/server/router.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";

const source = {
  proto: "udp" as const,
  remote: { transport: "udp" as const, hostname: "127.0.0.1", port: 5353 },
  local: { transport: "udp" as const, hostname: "127.0.0.1", port: 53 },
};

function routerWith(zone: string, ...plugins: Plugin[]): ZoneRouter {
  const router = new ZoneRouter();
  router.add({ zone, chain: plugins.length ? compose(plugins) : null });
  return router;
}

const answering: Plugin = {
  name: "test",
  handle(q) {
    const r = replyTo(q.request);
    r.answers.push({ type: "A", name: q.question.name, ttl: 5, data: "192.0.2.1" });
    q.write(r);
  },
};

Deno.test("a packet shorter than a header is dropped", async () => {
  assert.equal(await respond(new Uint8Array(11), source, routerWith(".", answering)), null);
});

Deno.test("a response (QR set) is ignored", async () => {
  const q = makeQuery("example.org", "A", { flags: Flag.QR });
  assert.equal(await respond(q, source, routerWith(".", answering)), null);
});

Deno.test("garbage gets FORMERR with the request id", async () => {
  const garbage = new Uint8Array([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
  const reply = parseReply((await respond(garbage, source, routerWith(".", answering)))!);
  assert.equal(reply.id, 0x1234);
  assert.equal(rcodeOf(reply), Rcode.FORMERR);
});

Deno.test("an opcode other than QUERY or NOTIFY gets NOTIMP", async () => {
  const q = makeQuery("example.org", "A", { flags: 2 << 11 });
  const reply = parseReply((await respond(q, source, routerWith(".", answering)))!);
  assert.equal(rcodeOf(reply), Rcode.NOTIMP);
});

Deno.test("EDNS version 1 gets BADVERS with an OPT", async () => {
  const q = makeQuery("example.org", "A", { edns: 1232, ednsVersion: 1 });
  const reply = parseReply((await respond(q, source, routerWith(".", answering)))!);
  assert.equal(rcodeOf(reply), Rcode.BADVERS);
  assert.ok(optOf(reply));
});

Deno.test("no matching zone gets REFUSED; the longest zone wins", async () => {
  const router = routerWith("example.org.", answering);
  router.add({ zone: "sub.example.org.", chain: null });
  const other = parseReply((await respond(makeQuery("example.net"), source, router))!);
  assert.equal(rcodeOf(other), Rcode.REFUSED);
  const sub = parseReply((await respond(makeQuery("a.SUB.example.org"), source, router))!);
  assert.equal(rcodeOf(sub), Rcode.REFUSED, "a block without plugins refuses");
  const hit = parseReply((await respond(makeQuery("www.Example.org"), source, router))!);
  assert.equal(rcodeOf(hit), Rcode.NOERROR);
  assert.equal(hit.answers.length, 1);
});

Deno.test("a throwing plugin gives SERVFAIL, a PluginError its own rcode", async () => {
  const thrower: Plugin = {
    name: "boom",
    handle() {
      throw new Error("boom");
    },
  };
  const r1 = parseReply((await respond(makeQuery("x.org"), source, routerWith(".", thrower)))!);
  assert.equal(rcodeOf(r1), Rcode.SERVFAIL);
  const refuser: Plugin = {
    name: "r",
    handle() {
      throw new PluginError("no", Rcode.REFUSED);
    },
  };
  const r2 = parseReply((await respond(makeQuery("x.org"), source, routerWith(".", refuser)))!);
  assert.equal(rcodeOf(r2), Rcode.REFUSED);
});

Deno.test("passing past the last plugin is SERVFAIL; a returned rcode is written", async () => {
  const passer: Plugin = { name: "p", handle: (_q, next) => next() };
  const r1 = parseReply((await respond(makeQuery("x.org"), source, routerWith(".", passer)))!);
  assert.equal(rcodeOf(r1), Rcode.SERVFAIL);
  const nx: Plugin = { name: "n", handle: () => Rcode.NOTIMP };
  const r2 = parseReply((await respond(makeQuery("x.org"), source, routerWith(".", nx)))!);
  assert.equal(rcodeOf(r2), Rcode.NOTIMP);
});

Deno.test("OPT is echoed only when the client sent one, with its DO bit", async () => {
  const router = routerWith(".", answering);
  const plain = parseReply((await respond(makeQuery("x.org"), source, router))!);
  assert.equal(optOf(plain), undefined);
  const edns = parseReply(
    (await respond(makeQuery("x.org", "A", { edns: 4096, do: true }), source, router))!,
  );
  assert.equal(optOf(edns)?.flags, 0x8000);
});

Deno.test("UDP replies over max(512, EDNS size) are truncated with TC; TCP is not", async () => {
  const big: Plugin = {
    name: "big",
    handle(q) {
      const r = replyTo(q.request);
      for (let i = 0; i < 100; i++) {
        r.answers.push({ type: "A", name: q.question.name, ttl: 5, data: `10.0.0.${i}` });
      }
      q.write(r);
    },
  };
  const router = routerWith(".", big);
  const small = await respond(makeQuery("a-rather-long-name.example.org"), source, router);
  assert.ok(small!.length <= 512);
  const reply = parseReply(small!);
  assert.ok(reply.flags & Flag.TC);
  assert.ok(reply.answers.length < 100);
  const edns = await respond(
    makeQuery("a-rather-long-name.example.org", "A", { edns: 1232 }),
    source,
    router,
  );
  assert.ok(edns!.length <= 1232 && edns!.length > 512);
  const tcp = await respond(makeQuery("a-rather-long-name.example.org"), {
    ...source,
    proto: "tcp",
  }, router);
  const full = parseReply(tcp!);
  assert.equal(full.answers.length, 100);
  assert.equal(full.flags & Flag.TC, 0);
});

Deno.test("UDP replies never exceed the block's bufsize, whatever EDNS size the client claims", async () => {
  const big: Plugin = {
    name: "big",
    handle(q) {
      const r = replyTo(q.request);
      for (let i = 0; i < 300; i++) {
        r.answers.push({
          type: "A",
          name: q.question.name,
          ttl: 5,
          data: `10.0.${i >> 8}.${i & 255}`,
        });
      }
      q.write(r);
    },
  };
  const plain = routerWith(".", big);
  const capped = new ZoneRouter();
  capped.add({ zone: ".", chain: compose([big]), bufsize: 1000 });
  for (const [router, cap] of [[plain, 1232], [capped, 1000]] as const) {
    for (const size of [0, 511, 512, 999, 1000, 1001, 1232, 1233, 4096, 65507, 65535]) {
      const wire = (await respond(
        makeQuery("x.example", "A", { edns: 4096 }).map((b, i, a) =>
          i === a.length - 8 ? size >> 8 : i === a.length - 7 ? size & 255 : b
        ),
        source,
        router,
      ))!;
      const limit = Math.min(Math.max(512, size), cap);
      assert.ok(wire.length <= limit && wire.length > limit - 16, `${size}: ${wire.length}`);
      const reply = parseReply(wire);
      const echo = Math.min(Math.max(512, size), cap === 1000 ? 1000 : 65535);
      assert.equal(optOf(reply)?.udpPayloadSize, echo, "our OPT echoes the client's size");
      assert.ok(reply.flags & Flag.TC);
    }
    const tcp = await respond(makeQuery("x.example", "A", { edns: 512 }), {
      ...source,
      proto: "tcp",
    }, router);
    assert.equal(parseReply(tcp!).answers.length, 300);
  }
});

Deno.test("plugins that pass on to a synchronous answer make no promise; a throw is SERVFAIL", async () => {
  const passing: Plugin = { name: "pass", handle: (_q, next) => next() };
  const sync = answerPacket(makeQuery("example.org"), source, routerWith(".", passing, answering));
  assert.ok(sync instanceof Uint8Array);
  assert.equal(parseReply(sync).answers.length, 1);

  const throwing: Plugin = {
    name: "throws",
    handle() {
      throw new Error("boom");
    },
  };
  const failed = answerPacket(makeQuery("example.org"), source, routerWith(".", passing, throwing));
  assert.ok(failed instanceof Uint8Array);
  assert.equal(rcodeOf(parseReply(failed)), Rcode.SERVFAIL);

  const later: Plugin = { name: "later", handle: async (_q, next) => await next() };
  const promised = answerPacket(
    makeQuery("example.org"),
    source,
    routerWith(".", later, answering),
  );
  assert.ok(promised instanceof Promise);
  assert.equal(parseReply((await promised)!).answers.length, 1);
});
