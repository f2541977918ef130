/**
 * The codec's fast paths (src/dns/wire.ts) against dns-packet: on everything they accept they
 * must give exactly what dns-packet gives (uncompressed, the same bytes; compressed, bytes that
 * dns-packet decodes to the same message), and they must decline whatever dns-packet rejects.
 * Inputs are random and mutated, from a seeded PRNG (ETCDNS_WIRE_SEED replays a run).
 */
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as dnsPacket from "dns-packet";
import { decode, type DnsMessage, type DnsRecord, encode, Flag } from "../../src/dns/message.ts";
import {
  compressWire,
  copyBytes,
  decodeFast,
  encodeFast,
  truncateWire,
} from "../../src/dns/wire.ts";
import { makeQuery } from "../helpers/query.ts";

const SEED = Number(Deno.env.get("ETCDNS_WIRE_SEED") ?? Date.now() % 2 ** 31);

/** What src/dns/message.ts decode() gave before the fast path: dns-packet, normalised. */
function referenceDecode(bytes: Uint8Array): DnsMessage {
  const m = dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const flags = (m as unknown as { flags: number }).flags;
  return {
    id: m.id!,
    type: m.type,
    flags: flags | (m.type === "response" ? Flag.QR : 0),
    questions: (m.questions ?? []) as DnsMessage["questions"],
    answers: (m.answers ?? []) as DnsMessage["answers"],
    authorities: (m.authorities ?? []) as DnsMessage["authorities"],
    additionals: (m.additionals ?? []) as DnsMessage["additionals"],
  };
}

/** What encode() gave before the fast path. */
function referenceEncode(msg: DnsMessage): Uint8Array {
  const type = (msg.flags & Flag.QR) !== 0 ? "response" : "query";
  // deno-lint-ignore no-explicit-any -- dns-packet's typing is looser than ours
  return new Uint8Array(dnsPacket.encode({ ...msg, type } as any));
}

function checkDecode(p: Uint8Array, label: string): boolean {
  let expected: DnsMessage | Error;
  try {
    expected = referenceDecode(p);
  } catch (err) {
    expected = err as Error;
  }
  const fast = decodeFast(p);
  if (fast === null) return false;
  assert.ok(!(expected instanceof Error), `${label}: fast decoded what dns-packet rejects`);
  assert.deepStrictEqual(fast, expected, `${label}: ${[...p].join(",")}`);
  return true;
}

const NAMES = [
  "example.org",
  "www.Example.ORG.",
  "a",
  "_udp.x.example.org",
  "1.0.0.127.in-addr.arpa",
  "xn--bcher-kva.example",
  "*.wild.example",
  "a-b_c.d",
];

function querySeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of NAMES) {
    for (const type of ["A", "AAAA", "SRV", "PTR", "TXT", "ANY", "MX"]) {
      out.push(makeQuery(name, type));
      out.push(makeQuery(name, type, { edns: 1232, do: true }));
      out.push(makeQuery(name, type, { edns: 512, ednsVersion: 1, flags: Flag.RD | Flag.CD }));
    }
  }
  out.push(makeQuery(".", "NS"));
  out.push(makeQuery("a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63), "A"));
  return out;
}

Deno.test(`decodeFast equals dns-packet on common, random and mutated packets (seed ${SEED})`, () => {
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  const seeds = querySeeds();
  let accepted = 0;
  for (const s of seeds) {
    assert.ok(checkDecode(s, "seed"), `common query declined: ${[...s].join(",")}`);
  }
  for (let i = 0; i < 30_000; i++) {
    const kind = int(6);
    let p: Uint8Array;
    if (kind === 0) {
      p = crypto.getRandomValues(new Uint8Array(int(80)));
      if (rand() < 0.7 && p.length >= 12) p.set([0, 1, 0, 0, 0, 0, 0, int(3)], 4);
    } else {
      p = seeds[int(seeds.length)].slice();
      if (kind === 1) {
        for (let f = 1 + int(3); f > 0; f--) p[int(p.length)] = int(256);
      } else if (kind === 2) {
        p = p.subarray(0, int(p.length + 1));
      } else if (kind === 3) {
        p[4 + int(8)] = int(3);
      } else if (kind === 4) {
        const extra = crypto.getRandomValues(new Uint8Array(int(12)));
        const q = new Uint8Array(p.length + extra.length);
        q.set(p);
        q.set(extra, p.length);
        p = q;
      } else {
        // Bytes that the fast path treats specially: pointers, big labels, non-ASCII.
        p[12 + int(p.length - 12)] = [0xc0, 0x3f, 0x40, 0x80, 0xff, 0, 41][int(7)];
      }
    }
    if (checkDecode(p, `packet ${i}`)) accepted++;
  }
  assert.ok(accepted > 3000, `the fast path should take most well-formed queries (${accepted})`);
});

Deno.test("decode() still decodes what the fast path declines", () => {
  const m = decode(makeQuery("bücher.example", "A"));
  assert.equal(m.questions[0].name, "bücher.example");
  const withCookie = referenceEncode({
    id: 1,
    flags: 0,
    questions: [{ name: "example.org", type: "A", class: "IN" }],
    answers: [],
    authorities: [],
    additionals: [{
      type: "OPT",
      name: ".",
      udpPayloadSize: 1232,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      options: [{ code: 10, data: Buffer.alloc(8) }],
    }],
  });
  assert.equal(decodeFast(withCookie), null);
  assert.deepStrictEqual(decode(withCookie), referenceDecode(withCookie));
});

function randomName(rand: () => number): unknown {
  const int = (n: number) => Math.floor(rand() * n);
  switch (int(12)) {
    case 0:
      return ".";
    case 1:
      return "";
    case 2:
      return ["..", "...", "a..b", ".a", "a.", "a\nb.", "x".repeat(64) + ".org", "ü.de"][int(8)];
    case 3:
      return int(2) ? undefined : 42;
    case 4:
      return "mail\\.box.example.org";
    default: {
      const labels: string[] = [];
      for (let n = 1 + int(4); n > 0; n--) {
        let l = "";
        for (let k = 1 + int(10); k > 0; k--) l += String.fromCharCode(0x20 + int(0x5f));
        labels.push(l);
      }
      return labels.join(".") + (int(2) ? "." : "");
    }
  }
}

function randomIp4(rand: () => number): unknown {
  const int = (n: number) => Math.floor(rand() * n);
  if (rand() < 0.8) return `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
  return ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "", "1..2.3", null][int(8)];
}

function randomIp6(rand: () => number): unknown {
  const int = (n: number) => Math.floor(rand() * n);
  if (rand() < 0.85) {
    const groups = Array.from({ length: 8 }, () => int(4) === 0 ? "0" : int(0x10000).toString(16));
    if (int(3) === 0) return groups.join(":").toUpperCase();
    const at = int(8);
    const len = 1 + int(8 - at);
    if (int(2)) {
      return [...groups.slice(0, at), "", ...groups.slice(at + len)].join(":")
        .replace(/^:(?!:)/, "::").replace(/(?<!:):$/, "::");
    }
    return groups.join(":");
  }
  return [
    "::",
    "::1",
    "1::",
    ":::",
    "1:::2",
    "1::2::3",
    "::ffff:1.2.3.4",
    "12345::",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "fe80::1%eth0",
    "g::1",
    ":1::",
    "1:",
  ][int(14)];
}

function uint(rand: () => number, max: number): unknown {
  const r = rand();
  if (r < 0.85) return Math.floor(rand() * (max + 1));
  return [undefined, -1, max + 1, 1.5, NaN, "5", null][Math.floor(rand() * 7)];
}

function randomRecord(rand: () => number): DnsRecord {
  const int = (n: number) => Math.floor(rand() * n);
  const types = ["A", "AAAA", "NS", "CNAME", "PTR", "DNAME", "MX", "SRV", "SOA", "OPT", "TXT"];
  const type = int(20) === 0
    ? ["a", "Srv", "UNKNOWN_99", "constructor"][int(4)]
    : types[int(types.length)];
  if (type === "OPT") {
    return {
      type: "OPT",
      name: int(10) === 0 ? "x" : ".",
      udpPayloadSize: uint(rand, 0xffff) as number,
      extendedRcode: uint(rand, 0xff) as number,
      ednsVersion: uint(rand, 0xff) as number,
      flags: uint(rand, 0xffff) as number,
      options: int(8) === 0 ? [{ code: 12, length: 4 }] : [],
    };
  }
  let data: unknown;
  switch (type) {
    case "A":
      data = randomIp4(rand);
      break;
    case "AAAA":
      data = randomIp6(rand);
      break;
    case "MX":
      data = { preference: uint(rand, 0xffff), exchange: randomName(rand) };
      break;
    case "SRV":
      data = {
        priority: uint(rand, 0xffff),
        weight: uint(rand, 0xffff),
        port: uint(rand, 0xffff),
        target: randomName(rand),
      };
      break;
    case "SOA":
      data = {
        mname: randomName(rand),
        rname: randomName(rand),
        serial: uint(rand, 0xffffffff),
        refresh: uint(rand, 0xffffffff),
        retry: uint(rand, 0xffffffff),
        expire: uint(rand, 0xffffffff),
        minimum: uint(rand, 0xffffffff),
      };
      break;
    case "TXT":
      data = ["hello"];
      break;
    default:
      data = randomName(rand);
  }
  const classes = [undefined, "IN", "IN", "CH", "ANY", "in", "XX"];
  return {
    type,
    name: randomName(rand) as string,
    class: classes[int(classes.length)],
    ttl: uint(rand, 0xffffffff) as number,
    flush: int(20) === 0,
    data,
  };
}

function checkEncode(msg: DnsMessage, label: string): boolean {
  let expected: Uint8Array | Error;
  try {
    expected = referenceEncode(structuredClone(msg));
  } catch (err) {
    expected = err as Error;
  }
  const plain = encodeFast(msg, false);
  const fast = encodeFast(msg);
  assert.equal(plain === null, fast === null, `${label}: compression changes what is accepted`);
  if (fast === null || plain === null) return false;
  assert.ok(
    !(expected instanceof Error),
    `${label}: fast encoded what dns-packet rejects (${expected}): ${JSON.stringify(msg)}`,
  );
  assert.deepStrictEqual(plain, expected, `${label}: ${JSON.stringify(msg)}`);
  // Compressed: dns-packet reads back the same message, from no more bytes.
  assert.ok(fast.length <= expected.length, `${label}: compression made it bigger`);
  assert.deepStrictEqual(
    referenceDecode(fast),
    referenceDecode(expected),
    `${label}: ${JSON.stringify(msg)}`,
  );
  return true;
}

Deno.test(`encodeFast equals dns-packet on random messages (seed ${SEED})`, () => {
  const rand = prng(SEED + 1);
  const int = (n: number) => Math.floor(rand() * n);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const section = () => Array.from({ length: int(3) }, () => randomRecord(rand));
    const qtypes = [
      "A",
      "AAAA",
      "SRV",
      "ANY",
      "TXT",
      "HINFO",
      "a",
      "UNKNOWN_300",
      "NOPE",
      "*",
      "toString",
    ];
    const msg: DnsMessage = {
      id: uint(rand, 0xffff) as number,
      flags: int(10) === 0 ? -1 : int(0x20000),
      questions: Array.from({ length: int(3) }, () => ({
        name: randomName(rand) as string,
        type: qtypes[int(qtypes.length)],
        class: [undefined, "IN", "CH", "UNKNOWN_7"][int(4)],
      })),
      answers: section(),
      authorities: section(),
      additionals: section(),
    };
    if (checkEncode(msg, `message ${i}`)) accepted++;
  }
  assert.ok(accepted > 500, `the fast path should take plain messages (${accepted})`);
});

Deno.test("encodeFast takes the replies the hot path makes", () => {
  const reply: DnsMessage = {
    id: 7,
    flags: Flag.QR | Flag.AA | Flag.RD,
    questions: [{ name: "example.org", type: "A", class: "IN" }],
    answers: [
      { type: "A", name: "example.org", class: "IN", ttl: 30, data: "192.0.2.1" },
      { type: "AAAA", name: "example.org", ttl: 30, data: "2001:db8::1" },
      { type: "CNAME", name: "www.example.org", ttl: 30, data: "example.org." },
    ],
    authorities: [{
      type: "SOA",
      name: "example.org",
      ttl: 60,
      data: {
        mname: "ns1.example.org",
        rname: "hostmaster.example.org",
        serial: 1,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 30,
      },
    }],
    additionals: [
      {
        type: "SRV",
        name: "_udp.example.org",
        data: { priority: 0, weight: 0, port: 53, target: "." },
      },
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0x8000,
        options: [],
      },
    ],
  };
  assert.ok(checkEncode(reply, "typical reply"));
  assert.deepStrictEqual(referenceDecode(encode(reply)), referenceDecode(referenceEncode(reply)));
});

/** A reply with `n` A records for one name, as the hot path makes it. */
function manyA(n: number, name = "many.example.org"): DnsMessage {
  return {
    id: 1,
    flags: Flag.QR | Flag.AA,
    questions: [{ name, type: "A", class: "IN" }],
    answers: Array.from({ length: n }, (_, i) => ({
      type: "A",
      name,
      class: "IN",
      ttl: 60,
      data: `10.0.${i >> 8}.${i & 0xff}`,
    })),
    authorities: [],
    additionals: [],
  };
}

Deno.test("an A record for the question's name takes 16 bytes, as in CoreDNS", () => {
  const one = encode(manyA(1)).length;
  const two = encode(manyA(2)).length;
  assert.equal(two - one, 16);
  // Uncompressed, the owner name is repeated: 18 bytes for many.example.org.
  assert.equal(referenceEncode(manyA(2)).length - referenceEncode(manyA(1)).length, 18 + 14);
});

Deno.test("31 A records in 512 bytes: 29 whole records and TC, as miekg/dns truncates", () => {
  const wire = truncateWire(encode(manyA(31)), 512);
  assert.ok(wire.length <= 512);
  const m = referenceDecode(wire);
  assert.equal(m.answers.length, 29);
  assert.ok((m.flags & Flag.TC) !== 0);
  assert.deepStrictEqual(m.answers, referenceDecode(encode(manyA(29))).answers);
});

/** SRV answers for `n` targets, each with an A record in additionals, and our OPT last. */
function srvReply(n: number): DnsMessage {
  const zone = "tf.local";
  return {
    id: 2,
    flags: Flag.QR | Flag.AA | Flag.RD,
    questions: [{ name: `_etcd-server._tcp.${zone}`, type: "SRV", class: "IN" }],
    answers: Array.from({ length: n }, (_, i) => ({
      type: "SRV",
      name: `_etcd-server._tcp.${zone}`,
      ttl: 10,
      data: { priority: 10, weight: 10, port: 2380, target: `worker${i + 1}.${zone}` },
    })),
    authorities: [],
    additionals: [
      ...Array.from({ length: n }, (_, i) => ({
        type: "A",
        name: `worker${i + 1}.${zone}`,
        ttl: 10,
        data: `10.1.0.${i + 1}`,
      })),
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        options: [],
      },
    ],
  };
}

Deno.test("only additionals dropped: every answer kept, OPT kept, no TC", () => {
  const full = encode(srvReply(30));
  const answersOnly = encode({ ...srvReply(30), additionals: srvReply(30).additionals.slice(-1) });
  const size = answersOnly.length + 40; // room for the answers and two glue records
  assert.ok(full.length > size);
  const m = referenceDecode(truncateWire(full, size));
  assert.equal(m.answers.length, 30);
  assert.equal(m.additionals.length, 3);
  assert.equal(m.additionals[2].type, "OPT");
  assert.equal(m.flags & Flag.TC, 0);
});

Deno.test(`truncateWire keeps the longest prefix of whole records (seed ${SEED})`, () => {
  const rand = prng(SEED + 3);
  const int = (n: number) => Math.floor(rand() * n);
  for (let i = 0; i < 2000; i++) {
    const msg = int(2) ? srvReply(1 + int(40)) : manyA(1 + int(80), `n${int(5)}.example.org`);
    if (int(2)) {
      msg.authorities = Array.from({ length: int(5) }, () => ({
        type: "NS",
        name: "example.org",
        ttl: 5,
        data: `ns${int(9)}.example.org`,
      }));
    }
    const full = encode(msg);
    const all = referenceDecode(full);
    const max = 512 + int(full.length);
    const cut = truncateWire(full, max);
    assert.ok(cut.length <= max, `message ${i}: ${cut.length} > ${max}`);
    const m = referenceDecode(cut);
    const keptRecords = [
      ...m.answers,
      ...m.authorities,
      ...m.additionals.filter((r) => r.type !== "OPT"),
    ];
    const allRecords = [
      ...all.answers,
      ...all.authorities,
      ...all.additionals.filter((r) => r.type !== "OPT"),
    ];
    assert.deepStrictEqual(keptRecords, allRecords.slice(0, keptRecords.length));
    assert.equal(
      m.additionals.some((r) => r.type === "OPT"),
      all.additionals.some((r) => r.type === "OPT"),
    );
    const cutCore = m.answers.length < all.answers.length ||
      m.authorities.length < all.authorities.length;
    assert.equal((m.flags & Flag.TC) !== 0, cutCore, `message ${i}: TC`);
    // Whole records only: one more would not have fit.
    if (keptRecords.length < allRecords.length) {
      const one = structuredClone(all);
      const n = keptRecords.length + 1;
      const a = Math.min(n, all.answers.length);
      const ns = Math.min(n - a, all.authorities.length);
      one.answers = all.answers.slice(0, a);
      one.authorities = all.authorities.slice(0, ns);
      const extra = all.additionals.filter((r) => r.type !== "OPT").slice(0, n - a - ns);
      one.additionals = [...extra, ...all.additionals.filter((r) => r.type === "OPT")];
      assert.ok(encode(one).length > max, `message ${i}: one more record fits in ${max}`);
    }
  }
});

Deno.test(`compressWire: dns-packet reads back what it wrote (seed ${SEED})`, () => {
  const rand = prng(SEED + 2);
  const int = (n: number) => Math.floor(rand() * n);
  let compressed = 0;
  for (let i = 0; i < 20_000; i++) {
    const section = () => Array.from({ length: int(4) }, () => randomRecord(rand));
    const msg: DnsMessage = {
      id: int(0x10000),
      flags: int(0x10000),
      questions: Array.from({ length: int(3) }, () => ({
        name: randomName(rand) as string,
        type: ["A", "TXT", "SRV"][int(3)],
      })),
      answers: section(),
      authorities: section(),
      additionals: section(),
    };
    if (int(2) && msg.questions.length > 0) {
      // Shared owner names, as replies have them.
      for (const r of [...msg.answers, ...msg.authorities, ...msg.additionals]) {
        if (r.type !== "OPT" && int(3)) r.name = msg.questions[int(msg.questions.length)].name;
      }
    }
    let wire: Uint8Array;
    try {
      wire = referenceEncode(structuredClone(msg));
      // Only what dns-packet itself reads back as it wrote it (an empty label, "a..b", makes
      // it write a record that its decoder splits elsewhere: garbage either way).
      const again = referenceEncode(referenceDecode(wire));
      if (Buffer.compare(again, wire) !== 0) continue;
    } catch {
      continue;
    }
    // Mutations: compressWire must never throw, and gives back what it cannot parse.
    if (int(4) === 0) {
      const bad = wire.slice(0, int(wire.length + 1));
      if (bad.length > 0 && int(2)) bad[int(bad.length)] = int(256);
      compressWire(bad);
      continue;
    }
    const out = compressWire(wire);
    if (out !== wire) compressed++;
    assert.ok(out.length <= wire.length);
    assert.deepStrictEqual(
      referenceDecode(out),
      referenceDecode(wire),
      `message ${i}: ${JSON.stringify(msg)}`,
    );
  }
  assert.ok(compressed > 1000, `owner names should compress (${compressed})`);
});

Deno.test("encode() compresses what the fast path declines (TXT, non-ASCII names)", () => {
  const msg: DnsMessage = {
    id: 3,
    flags: Flag.QR,
    questions: [{ name: "ü.example.org", type: "TXT" }],
    answers: [
      { type: "TXT", name: "ü.example.org", ttl: 5, data: ["a"] },
      { type: "TXT", name: "ü.example.org", ttl: 5, data: ["b"] },
    ],
    authorities: [],
    additionals: [],
  };
  const wire = encode(msg);
  assert.ok(wire.length < referenceEncode(msg).length);
  assert.deepStrictEqual(referenceDecode(wire), referenceDecode(referenceEncode(msg)));
});

Deno.test("copyBytes copies: later writes to the source do not show", () => {
  const src = new Uint8Array([1, 2, 3]);
  const copies = Array.from({ length: 10_000 }, (_, i) => {
    src[0] = i & 0xff;
    return copyBytes(src);
  });
  copies.forEach((c, i) => assert.deepStrictEqual([...c], [i & 0xff, 2, 3]));
  const big = new Uint8Array(5000).fill(9);
  assert.deepStrictEqual(copyBytes(big), big);
});
