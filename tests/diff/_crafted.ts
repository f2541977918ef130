/**
 * An upstream that answers with reply shapes dnsmasq never sends (an SOA in denials, a referral,
 * NXDOMAIN with an answer, a CNAME chain that stops short), so the differential suite can compare
 * how each cache keeps them and what TTLs it writes. Answers are built with dns-packet, the
 * reference codec, not with etcdns's own.
 */
import * as packet from "dns-packet";
import { Buffer } from "node:buffer";
import type { DiffQuery } from "./_compare.ts";

const SOA = {
  name: "crafted.test",
  type: "SOA",
  ttl: 600,
  data: {
    mname: "ns.crafted.test",
    rname: "admin.crafted.test",
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 60,
  },
} as const;

type Shape = (r: packet.Packet, name: string) => void;

/** Reply shapes by the name asked (under crafted.test). */
const SHAPES: Record<string, Shape> = {
  "short": (r, name) => r.answers!.push({ name, type: "A", ttl: 1, data: "192.0.2.1" }),
  "long": (r, name) => r.answers!.push({ name, type: "A", ttl: 86400, data: "192.0.2.2" }),
  "gone": (r) => {
    r.flags! |= 3;
    r.authorities!.push(SOA);
  },
  "nodata": (r) => r.authorities!.push(SOA),
  "empty": () => {},
  "deleg": (r, name) => r.authorities!.push({ name, type: "NS", ttl: 900, data: `ns.${name}` }),
  "nxans": (r, name) => {
    r.flags! |= 3;
    r.answers!.push({ name, type: "CNAME", ttl: 900, data: "gone.crafted.test" });
  },
  "chain": (r, name) => {
    r.answers!.push({ name, type: "CNAME", ttl: 300, data: "long.crafted.test" });
    r.answers!.push({ name: "long.crafted.test", type: "A", ttl: 120, data: "192.0.2.2" });
  },
  "shortchain": (r, name) =>
    r.answers!.push({ name, type: "CNAME", ttl: 300, data: "nodata.crafted.test" }),
  "shortchainsoa": (r, name) => {
    r.answers!.push({ name, type: "CNAME", ttl: 300, data: "nodata.crafted.test" });
    r.authorities!.push(SOA);
  },
  "fail": (r) => {
    r.flags! |= 2;
  },
};

/** The queries for the crafted block: each shape once, asked twice by the suite. */
export const CRAFTED_QUERIES: DiffQuery[] = Object.keys(SHAPES).map((s) => ({
  tag: `crafted.${s}`,
  name: `${s}.crafted.test`,
  type: "A",
}));

/** Starts the crafted upstream on a loopback UDP port; `close` stops it. */
export function startCrafted(): { port: number; close(): void } {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const [data, addr] of sock) {
      let q: packet.Packet;
      try {
        q = packet.decode(Buffer.from(data));
      } catch {
        continue;
      }
      const name = q.questions?.[0]?.name ?? "";
      const r: packet.Packet = {
        id: q.id,
        type: "response",
        flags: 0x8180,
        questions: q.questions,
        answers: [],
        authorities: [],
      };
      SHAPES[name.toLowerCase().split(".")[0]]?.(r, name);
      await sock.send(packet.encode(r), addr).catch(() => {});
    }
  })().catch(() => {});
  return { port: (sock.addr as Deno.NetAddr).port, close: () => sock.close() };
}
