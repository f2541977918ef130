/**
 * The decoding fast path (src/dns/decode_fast.ts) against dns-packet: on every query it accepts
 * it must give exactly what dns-packet gives, and it must decline whatever dns-packet rejects.
 * Inputs are common, random and mutated queries.
 */
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decode, type EdnsOption, Flag } from "../../src/dns/message.ts";
import { decodeFast } from "../../src/dns/decode_fast.ts";
import { makeQuery } from "../helpers/query.ts";
import { decodesAsReference, opt, referenceDecode, referenceEncode, SEED } from "./_reference.ts";

function checkDecode(p: Uint8Array, label: string): boolean {
  return decodesAsReference(decodeFast, p, label);
}

/** A query for example.org A whose OPT carries `options`. */
function withOptions(...options: EdnsOption[]): Uint8Array {
  return referenceEncode({
    id: 1,
    flags: 0,
    questions: [{ name: "example.org", type: "A", class: "IN" }],
    answers: [],
    authorities: [],
    additionals: [opt(0, options)],
  });
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
  // dig's cookie, a keepalive with and without its timeout, key tags, padding, an unknown code.
  out.push(withOptions({ code: 10, data: Buffer.alloc(8, 7) }));
  out.push(
    withOptions({ code: 11, data: Buffer.alloc(0) }, { code: 11, data: Buffer.from([1, 2]) }),
  );
  out.push(
    withOptions({ code: 14, data: Buffer.from([0, 1, 0, 2]) }, { code: 12, data: Buffer.alloc(5) }),
  );
  out.push(
    withOptions({ code: 300, data: Buffer.from("x") }, { code: 10, data: Buffer.alloc(24, 1) }),
  );
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
  // A client subnet, whose address dns-packet decodes into text of its own.
  const withSubnet = withOptions({ code: 8, data: Buffer.from([0, 1, 24, 0, 10, 0, 0]) });
  assert.equal(decodeFast(withSubnet), null);
  assert.deepStrictEqual(decode(withSubnet), referenceDecode(withSubnet));
});

Deno.test("a remembered name is given back only for the very same bytes", () => {
  // Names that differ in case, by one byte, or in label boundaries, one after another, and
  // again: each decodes to its own spelling (the name table checks every hit byte for byte).
  const names = ["www.example.org", "WWW.example.org", "www.example.orh", "ww.wexample.org"];
  for (let round = 0; round < 3; round++) {
    for (const name of names) {
      assert.equal(decodeFast(makeQuery(name))!.questions[0].name, name);
    }
  }
  // Many distinct names fill the table past its size; every one still decodes as itself.
  for (let i = 0; i < 10000; i++) {
    const name = `host${i}.example.org`;
    assert.equal(decodeFast(makeQuery(name))!.questions[0].name, name);
  }
});
