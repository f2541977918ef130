/**
 * What the codec tests compare with: dns-packet, as src/dns/message.ts used it before the fast
 * paths, and generators of random (often invalid) names, addresses and records. Seeded
 * (ETCDNS_WIRE_SEED replays a run).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as dnsPacket from "dns-packet";
import {
  type DnsMessage,
  type EdnsOption,
  Flag,
  type OptRecord,
  type ResourceRecord,
} from "../../src/dns/message.ts";

/** The seed of this run's random inputs. */
export const SEED = Number(Deno.env.get("ETCDNS_WIRE_SEED") ?? Date.now() % 2 ** 31);

/** What src/dns/message.ts decode() gave before the fast path: dns-packet, normalised. */
export function referenceDecode(bytes: Uint8Array): DnsMessage {
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

/**
 * Whether `fast` took `p`; when it did, asserts that it gave exactly what dns-packet gives and
 * that dns-packet does not reject `p`. Options' data compare as plain Uint8Arrays (dns-packet
 * gives Buffers, the fast paths views).
 */
export function decodesAsReference(
  fast: (p: Uint8Array) => DnsMessage | null,
  p: Uint8Array,
  label: string,
): boolean {
  let expected: DnsMessage | Error;
  try {
    expected = referenceDecode(p);
  } catch (err) {
    expected = err as Error;
  }
  const got = fast(p);
  if (got === null) return false;
  assert.ok(!(expected instanceof Error), `${label}: fast decoded what dns-packet rejects`);
  assert.deepStrictEqual(
    plainOptions(got),
    plainOptions(expected),
    `${label}: ${[...p].join(",")}`,
  );
  return true;
}

/** `m` with its options' data as plain Uint8Arrays. */
function plainOptions(m: DnsMessage): DnsMessage {
  for (const r of m.additionals) {
    if (r.type === "OPT") {
      r.options = r.options.map((o) => (o.data ? { ...o, data: new Uint8Array(o.data) } : o));
    }
  }
  return m;
}

/** What encode() gave before the fast path. */
export function referenceEncode(msg: DnsMessage): Uint8Array {
  const type = (msg.flags & Flag.QR) !== 0 ? "response" : "query";
  // dns-packet copies option data with Buffer's copy(); plain Uint8Arrays become Buffers here.
  const buffers = (list: DnsMessage["additionals"]) =>
    list?.map((r) =>
      r?.type === "OPT" && Array.isArray(r.options)
        ? {
          ...r,
          options: r.options.map((o) =>
            o?.data instanceof Uint8Array ? { ...o, data: Buffer.from(o.data) } : o
          ),
        }
        : r
    );
  const sections = {
    answers: buffers(msg.answers),
    authorities: buffers(msg.authorities),
    additionals: buffers(msg.additionals),
  };
  return new Uint8Array(dnsPacket.encode({ ...msg, ...sections, type })); // dns-packet is untyped: any shape goes
}

/** A random name, or something that is not one (empty labels, non-ASCII, not a string). */
export function randomName(rand: () => number): unknown {
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

/** A number from 0 to `max`, or now and then something that is not one. */
export function uint(rand: () => number, max: number): unknown {
  const r = rand();
  if (r < 0.85) return Math.floor(rand() * (max + 1));
  return [undefined, -1, max + 1, 1.5, NaN, "5", null][Math.floor(rand() * 7)];
}

/**
 * A random record of a random type (OPT included, for any section), often invalid on purpose:
 * the fast paths must decline whatever dns-packet rejects, shapes the types forbid included.
 */
export function randomRecord(rand: () => number): ResourceRecord {
  const int = (n: number) => Math.floor(rand() * n);
  const types = ["A", "AAAA", "NS", "CNAME", "PTR", "DNAME", "MX", "SRV", "SOA", "OPT", "TXT"];
  const type = int(20) === 0
    ? ["a", "Srv", "UNKNOWN_99", "constructor"][int(4)]
    : types[int(types.length)];
  if (type === "OPT") {
    return invalid({
      type: "OPT",
      name: int(10) === 0 ? "x" : ".",
      udpPayloadSize: uint(rand, 0xffff),
      extendedRcode: uint(rand, 0xff),
      ednsVersion: uint(rand, 0xff),
      flags: uint(rand, 0xffff),
      options: int(8) === 0 ? [{ code: 12, length: 4 }] : Array.from({ length: int(3) }, () => ({
        code: int(4) === 0 ? uint(rand, 0xffff) : [10, 15, 3][int(3)],
        data: Buffer.from(crypto.getRandomValues(new Uint8Array(int(40)))),
      })),
    });
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
  return invalid({
    type,
    name: randomName(rand),
    class: classes[int(classes.length)],
    ttl: uint(rand, 0xffffffff),
    flush: int(20) === 0,
    data,
  });
}

/** A record-like object taken for a record, whatever its fields hold (see randomRecord). */
function invalid(fields: Record<string, unknown>): ResourceRecord {
  return fields as unknown as ResourceRecord;
}

/** Our OPT record: 1232 bytes, EDNS 0, with `flags` (0x8000: DO) and `options`. */
export function opt(flags = 0, options: EdnsOption[] = []): OptRecord {
  return {
    type: "OPT",
    name: ".",
    udpPayloadSize: 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags,
    options,
  };
}

/** A reply with `n` A records for one name, as the hot path makes it. */
export function manyA(n: number, name = "many.example.org"): DnsMessage {
  return {
    id: 1,
    flags: Flag.QR | Flag.AA,
    questions: [{ name, type: "A", class: "IN" }],
    answers: Array.from({ length: n }, (_, i) => ({
      type: "A" as const,
      name,
      class: "IN",
      ttl: 60,
      data: `10.0.${i >> 8}.${i & 0xff}`,
    })),
    authorities: [],
    additionals: [],
  };
}

/** SRV answers for `n` targets, each with an A record in additionals, and our OPT last. */
export function srvReply(n: number): DnsMessage {
  const zone = "tf.local";
  return {
    id: 2,
    flags: Flag.QR | Flag.AA | Flag.RD,
    questions: [{ name: `_etcd-server._tcp.${zone}`, type: "SRV", class: "IN" }],
    answers: Array.from({ length: n }, (_, i) => ({
      type: "SRV" as const,
      name: `_etcd-server._tcp.${zone}`,
      ttl: 10,
      data: { priority: 10, weight: 10, port: 2380, target: `worker${i + 1}.${zone}` },
    })),
    authorities: [],
    additionals: [
      ...Array.from({ length: n }, (_, i) => ({
        type: "A" as const,
        name: `worker${i + 1}.${zone}`,
        ttl: 10,
        data: `10.1.0.${i + 1}`,
      })),
      opt(),
    ],
  };
}
