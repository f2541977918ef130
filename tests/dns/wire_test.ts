/**
 * The codec's fast paths (src/dns/wire.ts) against dns-packet: on everything they accept they
 * must give exactly what dns-packet gives, and they must decline whatever dns-packet rejects.
 * Inputs are random and mutated, from a seeded PRNG (ETCDNS_WIRE_SEED replays a run).
 */
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as dnsPacket from "dns-packet";
import { decode, type DnsMessage, type DnsRecord, encode, Flag } from "../../src/dns/message.ts";
import { copyBytes, decodeFast, encodeFast } from "../../src/dns/wire.ts";
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
  const fast = encodeFast(msg);
  if (fast === null) return false;
  assert.ok(
    !(expected instanceof Error),
    `${label}: fast encoded what dns-packet rejects (${expected}): ${JSON.stringify(msg)}`,
  );
  assert.deepStrictEqual(fast, expected, `${label}: ${JSON.stringify(msg)}`);
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
  assert.deepStrictEqual(encode(reply), referenceEncode(reply));
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
