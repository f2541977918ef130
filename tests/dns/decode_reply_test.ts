/**
 * The reply decoding fast path (src/dns/decode_reply.ts) against dns-packet: on every message it
 * accepts it must give exactly what dns-packet gives, and it must decline whatever dns-packet
 * rejects. Inputs are replies as resolvers send them (compressed and not), random messages,
 * crafted pointers, and mutations of all of these.
 */
// The seeds include records and options only the whole codec writes.
import "../../src/dns/codec_full.ts";
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import {
  decode,
  type DnsMessage,
  encode,
  Flag,
  type Question,
  type ResourceRecord,
} from "../../src/dns/message.ts";
import { decodeReplyFast } from "../../src/dns/decode_reply.ts";
import {
  decodesAsReference,
  manyA,
  opt,
  randomName,
  randomRecord,
  referenceDecode,
  referenceEncode,
  SEED,
  srvReply,
} from "./_reference.ts";

function checkReply(p: Uint8Array, label: string): boolean {
  return decodesAsReference(decodeReplyFast, p, label);
}

const RESPONSE = Flag.QR | Flag.RD | Flag.RA;

function question(name: string, type: string): Question {
  return { name, type, class: "IN" };
}

function record(name: string, type: string, data: unknown, ttl = 300): ResourceRecord {
  return { name, type, class: "IN", ttl, data } as ResourceRecord;
}

function reply(
  q: Question,
  answers: ResourceRecord[],
  authorities: ResourceRecord[] = [],
  additionals: DnsMessage["additionals"] = [opt()],
  rcode = 0,
): DnsMessage {
  return { id: 4242, flags: RESPONSE | rcode, questions: [q], answers, authorities, additionals };
}

const SOA_DATA = {
  mname: "ns1.example.org",
  rname: "hostmaster.example.org",
  serial: 2026112901,
  refresh: 7200,
  retry: 3600,
  expire: 1209600,
  minimum: 3600,
};

/** Replies as resolvers send them: what forward reads nearly always. */
function commonReplies(): DnsMessage[] {
  const www = "www.example.org";
  const edge = "edge.cdn.example.net";
  return [
    reply(question(www, "A"), [
      record(www, "CNAME", edge),
      record(edge, "A", "192.0.2.10", 20),
      record(edge, "A", "192.0.2.11", 20),
    ]),
    reply(question(www, "AAAA"), [
      record(www, "AAAA", "2001:db8::1"),
      record(www, "AAAA", "2001:db8:0:1::a:b"),
      record(www, "AAAA", "fe80::"),
      record(www, "AAAA", "::ffff:c000:201"),
    ]),
    reply(question("nope.example.org", "A"), [], [record("example.org", "SOA", SOA_DATA)], [
      opt(0x8000),
    ], 3),
    reply(question(www, "TXT"), [], [record("example.org", "SOA", SOA_DATA)], []),
    reply(
      question("example.org", "MX"),
      [
        record("example.org", "MX", { preference: 10, exchange: "mx1.example.org" }),
        record("example.org", "MX", { preference: 20, exchange: "mx2.example.org" }),
      ],
      [],
      [
        record("mx1.example.org", "A", "192.0.2.25"),
        record("mx1.example.org", "AAAA", "2001:db8::25"),
        opt(),
      ],
    ),
    reply(question("sub.example.org", "A"), [], [
      record("sub.example.org", "NS", "ns1.sub.example.org"),
      record("sub.example.org", "NS", "ns2.elsewhere.example"),
    ], [record("ns1.sub.example.org", "A", "198.51.100.1")]),
    reply(question("1.2.0.192.in-addr.arpa", "PTR"), [
      record("1.2.0.192.in-addr.arpa", "PTR", "host.example.org"),
    ]),
    reply(question("a.old.example", "A"), [
      record("old.example", "DNAME", "new.example"),
      record("a.old.example", "CNAME", "a.new.example"),
      record("a.new.example", "A", "203.0.113.9"),
    ]),
    // A server cookie (24 bytes) and an extended error, as BIND and CoreDNS send them.
    reply(question(www, "A"), [record(www, "A", "192.0.2.1")], [], [
      opt(0, [
        { code: 10, data: new Uint8Array(24).fill(3) },
        { code: 15, data: new Uint8Array([0, 18]) },
      ]),
    ]),
    reply(question(".", "NS"), [record(".", "NS", "a.root-servers.net", 518400)]),
    srvReply(3),
    manyA(40),
  ];
}

/** Each common reply compressed (as encode() and servers write it) and not (as dns-packet). */
function seeds(): Uint8Array[] {
  return commonReplies().flatMap((m) => [encode(structuredClone(m)), referenceEncode(m)]);
}

/** The question of x.example A: 12 + 11 + 4 bytes, its name at 12. */
const HEAD = [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
const QUESTION = [1, 120, 7, ...new TextEncoder().encode("example"), 0, 0, 1, 0, 1];

/** A reply to x.example A whose one answer has the owner `owner` (wire bytes) and `rdata`. */
function crafted(owner: number[], type = 1, rdata = [192, 0, 2, 1]): Uint8Array {
  const rr = [...owner, type >> 8, type & 0xff, 0, 1, 0, 0, 0, 60, rdata.length >> 8];
  return new Uint8Array([...HEAD, ...QUESTION, ...rr, rdata.length & 0xff, ...rdata]);
}

/**
 * A reply whose additional A record's owner is a chain of `hops` pointers, each to the one
 * before, the first to the question: the chain sits in an OPT option's data (the only bytes a
 * pointer can reach that no earlier name was read from).
 */
function pointerChain(hops: number): Uint8Array {
  const chainAt = 27 + 15; // the question, then OPT's root owner, fixed fields and option head
  const chain: number[] = [];
  for (let i = 0; i < hops; i++) chain.push(0xc0, i === 0 ? 12 : chainAt + 2 * (i - 1));
  const size = chain.length;
  const optRecord = [0, 0, 41, 4, 208, 0, 0, 0, 0, (size + 4) >> 8, (size + 4) & 0xff];
  const option = [0xfd, 0xe9, size >> 8, size & 0xff, ...chain];
  const last = chainAt + size - 2;
  const a = [0xc0 | (last >> 8), last & 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
  const head = [...HEAD];
  head[7] = 0; // no answers
  head[11] = 2; // OPT and the A record
  return new Uint8Array([...head, ...QUESTION, ...optRecord, ...option, ...a]);
}

Deno.test(`decodeReplyFast equals dns-packet on common, random and mutated replies (seed ${SEED})`, () => {
  const rand = prng(SEED + 2);
  const int = (n: number) => Math.floor(rand() * n);
  const common = seeds();
  for (const s of common) {
    assert.ok(checkReply(s, "common"), `common reply declined: ${[...s].join(",")}`);
  }
  // Random messages: any record, valid or not, in any section; what dns-packet can write.
  const random: Uint8Array[] = [];
  while (random.length < 3000) {
    const section = () => Array.from({ length: int(4) }, () => randomRecord(rand));
    const msg: DnsMessage = {
      id: int(0x10000),
      flags: RESPONSE,
      questions: [question(randomName(rand) as string, ["A", "AAAA", "MX"][int(3)])],
      answers: section(),
      authorities: section(),
      additionals: section(),
    };
    try {
      random.push(int(2) ? encode(msg) : referenceEncode(msg));
    } catch { /* not a message dns-packet writes */ }
  }
  for (const [i, p] of random.entries()) checkReply(p, `random ${i}`);

  const pool = [...common, ...random];
  let accepted = 0;
  for (let i = 0; i < 30_000; i++) {
    let p = pool[int(pool.length)].slice();
    const kind = int(5);
    if (kind === 0) {
      for (let f = 1 + int(3); f > 0; f--) p[int(p.length)] = int(256);
    } else if (kind === 1) {
      p = p.subarray(0, int(p.length + 1));
    } else if (kind === 2) {
      p[4 + int(8)] = int(4);
    } else if (kind === 3) {
      // Pointers (to anywhere, backwards or not), big labels, non-ASCII, dots, OPT.
      const at = 12 + int(Math.max(1, p.length - 13));
      p[at] = [0xc0, 0xc0, 0x3f, 0x40, 0x80, 0xff, 0, 41, 0x2e][int(9)];
      if (p[at] === 0xc0 && at + 1 < p.length) p[at + 1] = int(at + 8);
    } else {
      // A record's data length, off by a little.
      const at = 12 + int(Math.max(1, p.length - 13));
      p[at] = Math.max(0, p[at] + int(5) - 2);
    }
    if (checkReply(p, `mutated ${i}`)) accepted++;
  }
  // Most mutations break a reply (or make a record the fast path leaves to dns-packet).
  assert.ok(accepted > 2500, `the fast path should take well-formed replies (${accepted})`);
});

Deno.test("AAAA text is ip-codec's for every pattern of zero groups", () => {
  const rand = prng(SEED + 3);
  for (let zeros = 0; zeros < 256; zeros++) {
    for (let round = 0; round < 4; round++) {
      const bytes = new Uint8Array(16);
      for (let g = 0; g < 8; g++) {
        if (zeros & (1 << g)) continue;
        const value = round === 0 ? 1 + g : 1 + Math.floor(rand() * 0xffff);
        bytes[2 * g] = value >> 8;
        bytes[2 * g + 1] = value & 0xff;
      }
      const p = crafted([0xc0, 12], 28, [...bytes]);
      assert.ok(checkReply(p, `zeros ${zeros.toString(2)}`), "an AAAA reply was declined");
    }
  }
});

Deno.test("names: pointers backwards are followed; what dns-packet rejects is declined", () => {
  const aName = (p: Uint8Array) => decodeReplyFast(p)?.answers[0]?.name;
  // The question's name, a suffix of it, and a name ending in a pointer to it.
  assert.equal(aName(crafted([0xc0, 12])), "x.example");
  assert.equal(aName(crafted([0xc0, 14])), "example");
  assert.equal(aName(crafted([3, 119, 119, 119, 0xc0, 12])), "www.x.example");
  // A pointer to a pointer: the answer's owner points at the first answer's owner.
  const second = crafted([0xc0, 12]);
  const two = new Uint8Array([...second, 0xc0, 27, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
  two[7] = 2;
  assert.equal(decodeReplyFast(two)?.answers[1].name, "x.example");
  assert.ok(checkReply(two, "pointer to a pointer"));
  // Forwards, at itself, cut after its first byte: dns-packet rejects each, and so does decode().
  const cut = new Uint8Array([...HEAD, ...QUESTION, 0xc0]);
  for (const p of [crafted([0xc0, 40]), crafted([0xc0, 27]), cut]) {
    assert.equal(decodeReplyFast(p), null, `${[...p]}`);
    assert.throws(() => referenceDecode(p));
    assert.throws(() => decode(p));
  }
});

Deno.test("what the fast path declines, decode() still decodes as dns-packet", () => {
  // A mailbox with a dot in a label: dns-packet escapes it.
  const soa = reply(question("example.org", "SOA"), [
    record("example.org", "SOA", { ...SOA_DATA, rname: "john\\.doe.example.org" }),
  ]);
  // TXT data are Buffers there; a chain of 100 pointers is longer than the fast path follows.
  const txt = reply(question("example.org", "TXT"), [record("example.org", "TXT", ["v=spf1"])]);
  const longChain = pointerChain(100);
  assert.ok(checkReply(pointerChain(20), "a chain of 20 pointers"));
  for (const p of [referenceEncode(soa), encode(txt), longChain]) {
    assert.equal(decodeReplyFast(p), null);
    assert.deepStrictEqual(decode(p), referenceDecode(p));
  }
  const answer = decode(referenceEncode(soa)).answers[0];
  assert.equal(answer.type === "SOA" && answer.data.rname, "john\\.doe.example.org");
});
