/**
 * The differential query tool: sends the same query to CoreDNS and to etcdns and reports every
 * difference as a class (`TAG:FIELD`, where TAG names the kind of query the corpus made and FIELD
 * the part of the reply that differs) with the query as a sample.
 */
import { udpSweep } from "../helpers/dns_client.ts";
import { buildQuery, parseWire, type WireRecord, type WireReply } from "./_wire.ts";

/** One query of the corpus. */
export interface DiffQuery {
  /** What kind of query this is (`hosts.alias`, `ptr.v4mapped`, ...): the class prefix. */
  tag: string;
  name: string;
  type: string;
  /** UDP size of an OPT record; absent means no EDNS. */
  edns?: number;
  do?: boolean;
  cd?: boolean;
  tcp?: boolean;
}

/** One difference found. */
export interface Difference {
  /** `TAG:FIELD`, e.g. `name.dup:answer`; TAG ends in `/tcp` for a query over TCP. */
  cls: string;
  block: string;
  query: DiffQuery;
  detail: string;
}

/** A one-line rendition of a query, dig style, to replay by hand. */
export function describe(q: DiffQuery, port = "PORT"): string {
  const parts = [`dig -p ${port} @127.0.0.1 ${q.name} ${q.type}`];
  parts.push(q.edns === undefined ? "+noedns" : `+edns=0 +bufsize=${q.edns}`);
  if (q.do) parts.push("+dnssec");
  if (q.cd) parts.push("+cd");
  if (q.tcp) parts.push("+tcp");
  return parts.join(" ");
}

function records(rs: WireRecord[]): string[] {
  return rs.map((r) => r.key).sort();
}

/**
 * The differences between two replies (`a` from CoreDNS, `b` from etcdns), as FIELD -> detail.
 * Sections compare as sorted multisets of records; TTLs compare per record key within `ttlSlack`.
 */
export function compareReplies(
  a: WireReply | null,
  b: WireReply | null,
  ttlSlack = 0,
): Map<string, string> {
  const out = new Map<string, string>();
  if (!a || !b) {
    if (a !== b) {
      out.set(
        "noreply",
        `coredns ${a ? "answered" : "silent"}, etcdns ${b ? "answered" : "silent"}`,
      );
    }
    return out;
  }
  if (a.rcode !== b.rcode) out.set("rcode", `coredns ${a.rcode}, etcdns ${b.rcode}`);
  for (const f of ["QR", "AA", "TC", "RD", "RA", "AD", "CD"] as const) {
    if (a.flags[f] !== b.flags[f]) {
      out.set(`flag.${f}`, `coredns ${a.flags[f] ? 1 : 0}, etcdns ${b.flags[f] ? 1 : 0}`);
    }
  }
  if (a.question.join("|") !== b.question.join("|")) {
    out.set("question", `coredns [${a.question}], etcdns [${b.question}]`);
  }
  for (const s of ["answer", "authority", "additional"] as const) {
    const ra = records(a[s]);
    const rb = records(b[s]);
    if (ra.join("\n") !== rb.join("\n")) {
      const onlyA = ra.filter((x) => !rb.includes(x));
      const onlyB = rb.filter((x) => !ra.includes(x));
      out.set(
        s,
        `coredns ${ra.length} records, etcdns ${rb.length}` +
          (onlyA.length ? `; only coredns: ${onlyA.slice(0, 3).join(" | ")}` : "") +
          (onlyB.length ? `; only etcdns: ${onlyB.slice(0, 3).join(" | ")}` : ""),
      );
      continue;
    }
    const ttlA = new Map<string, number[]>();
    for (const r of a[s]) ttlA.set(r.key, [...(ttlA.get(r.key) ?? []), r.ttl]);
    for (const r of b[s]) {
      const t = ttlA.get(r.key)?.shift();
      if (t !== undefined && Math.abs(t - r.ttl) > ttlSlack) {
        out.set(`ttl.${s}`, `${r.key}: coredns ${t}, etcdns ${r.ttl}`);
        break;
      }
    }
  }
  if (!a.opt !== !b.opt) {
    out.set(
      "opt.present",
      `coredns ${a.opt ? "has" : "lacks"} OPT, etcdns ${b.opt ? "has" : "lacks"}`,
    );
  } else if (a.opt && b.opt) {
    if (a.opt.udpSize !== b.opt.udpSize) {
      out.set("opt.size", `coredns ${a.opt.udpSize}, etcdns ${b.opt.udpSize}`);
    }
    if (a.opt.do !== b.opt.do) out.set("opt.do", `coredns ${a.opt.do}, etcdns ${b.opt.do}`);
    if (a.opt.version !== b.opt.version) {
      out.set("opt.version", `coredns ${a.opt.version}, etcdns ${b.opt.version}`);
    }
    const oa = [...a.opt.options].sort().join(",");
    const ob = [...b.opt.options].sort().join(",");
    if (oa !== ob) out.set("opt.options", `coredns [${oa}], etcdns [${ob}]`);
  }
  return out;
}

/** Builds the packet for a query with `id`. */
export function packetOf(q: DiffQuery, id: number): Uint8Array {
  return buildQuery(q.name, q.type, { id, edns: q.edns, do: q.do, cd: q.cd });
}

/** One query over its own TCP connection; null when no whole reply came within `timeoutMs`. */
async function tcpOne(port: number, packet: Uint8Array, timeoutMs: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    const framed = new Uint8Array(packet.length + 2);
    framed[0] = packet.length >> 8;
    framed[1] = packet.length & 0xff;
    framed.set(packet, 2);
    for (let w = 0; w < framed.length;) w += await conn.write(framed.subarray(w));
    let buf = new Uint8Array(0);
    for (let reads = 0; reads < 1000; reads++) {
      if (buf.length >= 2 && buf.length >= 2 + ((buf[0] << 8) | buf[1])) {
        return buf.slice(2, 2 + ((buf[0] << 8) | buf[1]));
      }
      const chunk = new Uint8Array(65537);
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) return null;
      const merged = new Uint8Array(buf.length + n);
      merged.set(buf);
      merged.set(chunk.subarray(0, n), buf.length);
      buf = merged;
    }
    return null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/**
 * Sends queries over TCP, one connection each (as dig does), `parallel` at a time; each waits at
 * most `timeoutMs` (longer than a forward's 5 s budget, so a slow SERVFAIL still counts).
 */
export async function tcpBatch(
  port: number,
  packets: Uint8Array[],
  { parallel = 8, timeoutMs = 6000 } = {},
): Promise<(Uint8Array | null)[]> {
  const replies: (Uint8Array | null)[] = packets.map(() => null);
  let next = 0;
  const worker = async () => {
    while (next < packets.length) {
      const i = next++;
      replies[i] = await tcpOne(port, packets[i], timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, packets.length) }, worker));
  return replies;
}

/** Sends every query (UDP ones in a sweep, TCP ones pipelined) and returns the parsed replies. */
export async function exchangeAll(
  port: number,
  queries: DiffQuery[],
): Promise<(WireReply | null)[]> {
  const out: (WireReply | null)[] = queries.map(() => null);
  const udp = queries.flatMap((q, i) => (q.tcp ? [] : [i]));
  const tcp = queries.flatMap((q, i) => (q.tcp ? [i] : []));
  const [ru, rt] = await Promise.all([
    udpSweep(port, udp.map((i) => packetOf(queries[i], 0)), {
      window: 16,
      retries: 1,
      timeoutMs: 1500,
    }),
    tcpBatch(port, tcp.map((i) => packetOf(queries[i], 0))),
  ]);
  const parse = (b: Uint8Array | null) => (b ? parseWire(b) : null);
  udp.forEach((qi, k) => out[qi] = parse(ru[k]));
  tcp.forEach((qi, k) => out[qi] = parse(rt[k]));
  return out;
}

/** Compares replies query by query; the id field is not compared (the sweep sets it). */
export function diffAll(
  block: string,
  queries: DiffQuery[],
  coredns: (WireReply | null)[],
  etcdns: (WireReply | null)[],
  ttlSlack = 0,
): Difference[] {
  const diffs: Difference[] = [];
  queries.forEach((q, i) => {
    for (const [field, detail] of compareReplies(coredns[i], etcdns[i], ttlSlack)) {
      diffs.push({ cls: `${q.tag}${q.tcp ? "/tcp" : ""}:${field}`, block, query: q, detail });
    }
  });
  return diffs;
}
