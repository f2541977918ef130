/**
 * Whole-message rewrites (src/dns/compress.ts): truncateWire cuts at record boundaries as
 * miekg/dns does, and compressWire's output reads back, through dns-packet, as what it was given.
 */
import { prng } from "../helpers/prng.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type DnsMessage, encode, Flag } from "../../src/dns/message.ts";
import { compressWire, truncateWire } from "../../src/dns/compress.ts";
import {
  manyA,
  randomName,
  randomRecord,
  referenceDecode,
  referenceEncode,
  SEED,
  srvReply,
} from "./_reference.ts";

Deno.test("31 A records in 512 bytes: 29 whole records and TC, as miekg/dns truncates", () => {
  const wire = truncateWire(encode(manyA(31)), 512);
  assert.ok(wire.length <= 512);
  const m = referenceDecode(wire);
  assert.equal(m.answers.length, 29);
  assert.ok((m.flags & Flag.TC) !== 0);
  assert.deepStrictEqual(m.answers, referenceDecode(encode(manyA(29))).answers);
});

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
  // About 1,100 of the 20,000 compress on most seeds; seed 601197081 gave 996, so the bar sits
  // well below the spread of seeds rather than on it.
  assert.ok(compressed > 800, `owner names should compress (${compressed})`);
});
