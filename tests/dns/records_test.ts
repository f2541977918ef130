/**
 * Record data types (src/dns/message.ts): narrowing by `type` gives each type's data, and what
 * decode() gives for an upstream reply (dns-packet's path) has the shapes the types declare.
 */
// These messages carry records the fast paths decline: the whole codec is needed.
import "../../src/dns/codec_full.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  decode,
  type DnsMessage,
  encode,
  Flag,
  type MxData,
  type ResourceRecord,
  type SoaData,
  type SrvData,
} from "../../src/dns/message.ts";
import { referenceEncode } from "./_reference.ts";

/** A description of `rr`'s data that only compiles if narrowing by type works. */
function describe(rr: ResourceRecord): string {
  switch (rr.type) {
    case "A":
    case "AAAA":
    case "NS":
    case "CNAME":
    case "PTR":
    case "DNAME":
      return rr.data.toLowerCase();
    case "MX": {
      const mx: MxData = rr.data;
      return `${mx.preference} ${mx.exchange}`;
    }
    case "SRV": {
      const srv: SrvData = rr.data;
      return `${srv.priority} ${srv.weight} ${srv.port} ${srv.target}`;
    }
    case "SOA": {
      const soa: SoaData = rr.data;
      return `${soa.mname} ${soa.rname} ${soa.serial} ${soa.minimum}`;
    }
    case "TXT":
      return rr.data.map((s) => typeof s === "string" ? s : new TextDecoder().decode(s)).join(" ");
    default: {
      // @ts-expect-error any other type's data is unknown until narrowed
      rr.data.length;
      return rr.data instanceof Uint8Array ? `${rr.type} ${rr.data.length} bytes` : rr.type;
    }
  }
}

const upstream: DnsMessage = {
  id: 9,
  flags: Flag.QR | Flag.RD | Flag.RA,
  questions: [{ name: "example.org", type: "ANY", class: "IN" }],
  answers: [
    { type: "A", name: "example.org", ttl: 60, data: "192.0.2.1" },
    {
      type: "MX",
      name: "example.org",
      ttl: 60,
      data: { preference: 10, exchange: "mx.example.org" },
    },
    { type: "TXT", name: "example.org", ttl: 60, data: ["v=spf1 -all"] },
    {
      type: "SRV",
      name: "_sip._udp.example.org",
      ttl: 60,
      data: { priority: 1, weight: 2, port: 5060, target: "sip.example.org" },
    },
    { type: "NULL", name: "example.org", ttl: 60, data: Buffer.from([1, 2, 3]) },
    { type: "UNKNOWN_65280", name: "example.org", ttl: 60, data: Buffer.from([4, 5]) },
  ],
  authorities: [{
    type: "SOA",
    name: "example.org",
    ttl: 60,
    data: {
      mname: "ns.example.org",
      rname: "hostmaster.example.org",
      serial: 7,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 30,
    },
  }],
  additionals: [],
};

Deno.test("decoded records have the data shapes their types declare", () => {
  const m = decode(referenceEncode(upstream));
  assert.deepEqual([...m.answers, ...m.authorities].map(describe), [
    "192.0.2.1",
    "10 mx.example.org",
    "v=spf1 -all",
    "1 2 5060 sip.example.org",
    "NULL 3 bytes",
    "UNKNOWN_65280 2 bytes",
    "ns.example.org hostmaster.example.org 7 30",
  ]);
});

Deno.test("records of every kind encode and decode back to the same data", () => {
  const m = decode(encode(upstream));
  assert.deepEqual(m.answers.map(describe), upstream.answers.map(describe));
  assert.deepEqual(
    m.authorities,
    upstream.authorities.map((r) => ({ ...r, class: "IN", flush: false })),
  );
});
