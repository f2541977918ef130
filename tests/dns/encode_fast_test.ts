/**
 * The encoding fast path (src/dns/encode_fast.ts) against dns-packet: on everything it accepts,
 * uncompressed it must give the same bytes, compressed bytes that dns-packet decodes to the same
 * message; it must decline whatever dns-packet rejects. Inputs are random messages.
 */
// These messages carry records the fast paths decline: the whole codec is needed.
import "../../src/dns/codec_full.ts";
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import { type DnsMessage, encode, Flag } from "../../src/dns/message.ts";
import { encodeFast } from "../../src/dns/encode_fast.ts";
import {
  manyA,
  opt,
  randomName,
  randomRecord,
  referenceDecode,
  referenceEncode,
  SEED,
  uint,
} from "./_reference.ts";

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
      opt(0x8000),
    ],
  };
  assert.ok(checkEncode(reply, "typical reply"));
  assert.deepStrictEqual(referenceDecode(encode(reply)), referenceDecode(referenceEncode(reply)));
});

Deno.test("an A record for the question's name takes 16 bytes, as in CoreDNS", () => {
  const one = encode(manyA(1)).length;
  const two = encode(manyA(2)).length;
  assert.equal(two - one, 16);
  // Uncompressed, the owner name is repeated: 18 bytes for many.example.org.
  assert.equal(referenceEncode(manyA(2)).length - referenceEncode(manyA(1)).length, 18 + 14);
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
