/**
 * Run by lazy_codec_test.ts in a process of its own (the test process has dns-packet loaded):
 * answers a query that the fast paths handle and one that needs dns-packet (`decode`: a non-ASCII
 * name; `encode`: a TXT reply), and exits 1 with the reason when the server does not load
 * dns-packet only for the second.
 */
import { decode, encode, FullCodecNotLoaded, rcodeOf, replyTo } from "../../src/dns/message.ts";
import type { Plugin } from "../../src/plugin/plugin.ts";
import { compose } from "../../src/server/chain.ts";
import { answerPacket } from "../../src/server/responder.ts";
import { ZoneRouter } from "../../src/server/router.ts";

const source = {
  proto: "udp" as const,
  remote: { transport: "udp" as const, hostname: "127.0.0.1", port: 5353 },
  local: { transport: "udp" as const, hostname: "127.0.0.1", port: 53 },
};

const answering: Plugin = {
  name: "test",
  handle(q) {
    const r = replyTo(q.request);
    if (q.qtype === "TXT") {
      r.answers.push({ type: "TXT", name: q.question.name, ttl: 5, data: ["hello"] });
    } else r.answers.push({ type: "A", name: q.question.name, ttl: 5, data: "192.0.2.1" });
    q.write(r);
  },
};
const router = new ZoneRouter();
router.add({ zone: ".", chain: compose([answering]) });

function query(type: string): Uint8Array {
  return encode({
    id: 7,
    flags: 0x0100,
    questions: [{ name: "x.example", type, class: "IN" }],
    answers: [],
    authorities: [],
    // dig's cookie: the fast path reads options too.
    additionals: [{
      type: "OPT",
      name: ".",
      udpPayloadSize: 1232,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      options: [{ code: 10, data: new Uint8Array(8) }],
    }],
  });
}

function fail(why: string): never {
  console.error(why);
  Deno.exit(1);
}

const plain = answerPacket(query("A"), source, router);
if (plain === null || plain instanceof Promise) fail("a plain query was not answered at once");

/** Whether dns-packet is loaded: only it decodes a name with a non-ASCII byte. */
function fullCodecLoaded(): boolean {
  const bytes = query("A");
  bytes[13] = 0xe9;
  try {
    decode(bytes);
    return true;
  } catch (err) {
    if (err instanceof FullCodecNotLoaded) return false;
    throw err;
  }
}

if (Deno.args[0] === "forward") {
  // forward reads replies of the common types without dns-packet, and loads it at the first
  // reply that needs it (a TXT answer here), which it still accepts.
  await import("../../src/plugins/forward/setup.ts");
  const { Upstream } = await import("../../src/plugins/forward/upstream.ts");
  if (fullCodecLoaded()) fail("forward: loading the plugin loaded dns-packet");
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const { port } = server.addr as Deno.NetAddr;
  const up = new Upstream("127.0.0.1", port, { expireMs: 0 });
  for (
    const [type, rdata] of [["A", [0, 4, 192, 0, 2, 1]], ["TXT", [0, 3, 2, 104, 105]]] as const
  ) {
    const answered = (async () => {
      const [data, from] = await server.receive();
      await server.send(answerTo(data, type === "A" ? 1 : 16, rdata), from);
    })();
    const question = { name: "x.example", type, class: "IN" };
    const reply = await up.exchange(query(type), question, "udp", 2000);
    await answered;
    if (reply.answers[0]?.type !== type) fail(`forward: no ${type} answer`);
    if (type === "A" && fullCodecLoaded()) fail("forward: an A reply loaded dns-packet");
  }
  up.close();
  server.close();
  if (!fullCodecLoaded()) fail("forward: a TXT reply did not load dns-packet");
  console.log("ok");
  Deno.exit(0);
}

/** `query` (x.example, with OPT) answered: its question, one record of `type` with `rdata`. */
function answerTo(query: Uint8Array, type: number, rdata: readonly number[]): Uint8Array {
  const questionEnd = 12 + 11 + 4;
  const head = query.slice(0, questionEnd);
  head[2] |= 0x80;
  head[7] = 1; // one answer
  head[11] = 0; // no OPT
  const record = [0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, ...rdata];
  return new Uint8Array([...head, ...record]);
}

let slow: Uint8Array;
if (Deno.args[0] === "decode") {
  // x.example with its first label's byte made non-ASCII: the fast decoder declines it.
  const bytes = query("A");
  bytes[13] = 0xe9;
  slow = bytes;
} else slow = query("TXT");
const pending = answerPacket(slow, source, router);
// A promise: dns-packet was not loaded yet, so neither the plain query nor start-up loaded it.
if (!(pending instanceof Promise)) fail(`${Deno.args[0]}: answered without loading dns-packet`);
const reply = await pending;
if (reply === null || rcodeOf({ ...decodeHeader(reply) }) !== 0) fail("no NOERROR reply");
const again = answerPacket(slow, source, router);
// At once now: it was loaded, and stays loaded.
if (again === null || again instanceof Promise) fail("once loaded, the same query waits again");
console.log("ok");

/** The parts of a reply's header rcodeOf reads. */
function decodeHeader(wire: Uint8Array) {
  return {
    id: 0,
    flags: (wire[2] << 8) | wire[3],
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
}
