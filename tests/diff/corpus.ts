/**
 * The differential corpus: the hosts file both servers read, the Corefile they both run (only the
 * ports differ), and the generated queries per block, from a seeded PRNG.
 */
import { prng } from "../helpers/prng.ts";
import type { DiffQuery } from "./_compare.ts";

/** hosts(5) text with aliases, comments, IPv6, IPv4-mapped, duplicates, wildcards, 31 addresses. */
export function hostsText(): string {
  const lines = [
    "# the differential suite's hosts file",
    "10.0.0.1    host1.example.test alias1.example.test   # trailing comment",
    "fd00::1     host1.example.test",
    "10.0.0.2    Host2.Example.Test",
    "10.0.0.3    dup.example.test",
    "10.0.0.3    dup.example.test",
    "fd00::3     dup.example.test",
    "fd00::3     dup.example.test",
    "fd00::2     v6only.example.test",
    "::ffff:10.0.0.9  mapped.example.test",
    "10.0.0.10   *.wild.example.test",
    "10.0.0.11   sub.example.test www.sub.example.test",
    "10.0.0.12   example.test",
    "192.168.5.5 other.test",
    "   # an indented comment",
    "",
  ];
  for (let i = 1; i <= 31; i++) lines.push(`10.2.0.${i}    many.example.test`);
  return lines.join("\n") + "\n";
}

/** The addresses of the hosts file, for PTR queries, with a tag each. */
const PTR_V4: [string, string][] = [
  ["10.0.0.1", "ptr.v4"],
  ["10.0.0.2", "ptr.v4"],
  ["10.0.0.3", "ptr.dup"],
  ["10.0.0.11", "ptr.v4"],
  ["10.0.0.12", "ptr.v4"],
  ["10.0.0.10", "ptr.wild"],
  ["10.2.0.7", "ptr.v4"],
  ["192.168.5.5", "ptr.v4"],
  ["10.9.9.9", "ptr.absent"],
  ["10.0.0.9", "ptr.v4mapped"],
];
const PTR_V6: [string, string][] = [
  ["fd00::1", "ptr.v6"],
  ["fd00::2", "ptr.v6"],
  ["fd00::3", "ptr.dup6"],
  ["fd00::99", "ptr.absent"],
];

/** `a.b.c.d` -> `d.c.b.a.in-addr.arpa`. */
export function reverse4(ip: string): string {
  return ip.split(".").reverse().join(".") + ".in-addr.arpa";
}

/** An IPv6 address (or `::ffff:a.b.c.d`) -> its ip6.arpa name. */
export function reverse6(ip: string): string {
  let s = ip;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const n = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + ((n[0] << 8) | n[1]).toString(16) + ":" +
      ((n[2] << 8) | n[3]).toString(16);
  }
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const nibbles = groups.map((g) => g.padStart(4, "0")).join("");
  return nibbles.split("").reverse().join(".") + ".ip6.arpa";
}

/** The names the hosts blocks are asked, with the tag of each. */
const NAMES: [string, string][] = [
  ["host1.example.test", "name.present"],
  ["alias1.example.test", "name.alias"],
  ["host2.example.test", "name.present"],
  ["dup.example.test", "name.dup"],
  ["v6only.example.test", "name.v6only"],
  ["mapped.example.test", "name.v4mapped"],
  ["x.wild.example.test", "name.wild"],
  ["a.b.wild.example.test", "name.wild"],
  ["*.wild.example.test", "name.wildliteral"],
  ["sub.example.test", "name.present"],
  ["www.sub.example.test", "name.alias"],
  ["example.test", "name.apex"],
  ["many.example.test", "name.many"],
  ["nope.example.test", "name.absent"],
  ["deep.host1.example.test", "name.absent"],
  ["absent.sub.example.test", "name.fallsub"],
  ["other.test", "name.outzone"],
  ["nothere.test", "name.outzone"],
];

const TYPES = ["A", "AAAA", "PTR", "MX", "TXT", "ANY", "CNAME", "SRV"];
const EDNS: (number | undefined)[] = [undefined, undefined, 512, 1232, 4096, 1400];

/** Mixed case, from the PRNG (the answer keeps the query's case). */
function mixCase(name: string, rnd: () => number): string {
  return name.split("").map((c) => (rnd() < 0.35 ? c.toUpperCase() : c)).join("");
}

/** A variant of one base query: EDNS size, DO, CD, transport, case. */
function variant(
  rnd: () => number,
  tag: string,
  name: string,
  type: string,
  plain: boolean,
): DiffQuery {
  if (plain) return { tag, name, type };
  const edns = EDNS[Math.floor(rnd() * EDNS.length)];
  return {
    tag,
    name: rnd() < 0.3 ? mixCase(name, rnd) : name,
    type,
    edns,
    do: edns !== undefined && rnd() < 0.3,
    cd: rnd() < 0.1,
    tcp: rnd() < 0.25,
  };
}

/** Every base query of a hosts block: each name with each type, and PTR in both reverse forms. */
function hostsBase(): [string, string, string][] {
  const base: [string, string, string][] = [];
  for (const [name, tag] of NAMES) for (const t of TYPES) base.push([tag, name, t]);
  for (const [ip, tag] of PTR_V4) {
    base.push([tag, reverse4(ip), "PTR"]);
    // The same IPv4 address as an IPv4-mapped IPv6 address, in ip6.arpa form.
    base.push([tag === "ptr.absent" ? tag : "ptr.v4as6", reverse6(`::ffff:${ip}`), "PTR"]);
  }
  for (const [ip, tag] of PTR_V6) {
    base.push([tag, reverse6(ip), "PTR"]);
    base.push([tag, reverse6(ip), "A"]);
  }
  base.push(["ptr.zone", "in-addr.arpa", "PTR"]);
  base.push(["ptr.zone", "10.in-addr.arpa", "PTR"]);
  base.push(["ptr.partial", "0.0.10.in-addr.arpa", "PTR"]);
  return base;
}

/**
 * The queries for a hosts block: every base query once plainly (no EDNS, UDP) and once as a
 * random variant, then `extra` more random variants.
 */
export function hostsQueries(seed: number, extra = 150): DiffQuery[] {
  const rnd = prng(seed);
  const base = hostsBase();
  const out: DiffQuery[] = [];
  for (const [tag, name, type] of base) {
    out.push(variant(rnd, tag, name, type, true));
    out.push(variant(rnd, tag, name, type, false));
  }
  for (let i = 0; i < extra; i++) {
    const [tag, name, type] = base[Math.floor(rnd() * base.length)];
    out.push(variant(rnd, tag, name, type, false));
  }
  return out;
}

/** dnsmasq's data for the forward blocks. */
export const UPSTREAM_ARGS = [
  "--local=/up.test/", // answered here only: NODATA for a name with the other family, else NXDOMAIN
  "--host-record=v4.up.test,192.0.2.1",
  "--host-record=both.up.test,192.0.2.2,2001:db8::2",
  "--address=/nx.up.test/",
  "--address=/zero.up.test/0.0.0.0",
  "--txt-record=txt.up.test,hello world",
  "--mx-host=mx.up.test,mail.up.test,10",
  "--srv-host=_sip._udp.up.test,sip.up.test,5060,1,2",
  "--cname=alias.up.test,v4.up.test",
  "--ptr-record=9.2.0.192.in-addr.arpa,ptr.up.test",
];

const UP_BASE: [string, string, string][] = [
  ["up.known", "v4.up.test", "A"],
  ["up.nodata", "v4.up.test", "AAAA"],
  ["up.known", "both.up.test", "AAAA"],
  ["up.known", "both.up.test", "A"],
  ["up.nx", "nx.up.test", "A"],
  ["up.known", "zero.up.test", "A"],
  ["up.known", "txt.up.test", "TXT"],
  ["up.known", "mx.up.test", "MX"],
  ["up.known", "_sip._udp.up.test", "SRV"],
  ["up.cname", "alias.up.test", "A"],
  ["up.cnameshort", "alias.up.test", "AAAA"],
  ["up.known", "9.2.0.192.in-addr.arpa", "PTR"],
  ["up.nx", "unknown.up.test", "A"],
  ["up.refused", "other.invalid", "MX"],
];

/**
 * The queries for a forward block: each base query with a few distinct variants (distinct, so
 * that a cold pass asks the upstream once per cache key).
 */
export function upstreamQueries(seed: number): DiffQuery[] {
  const rnd = prng(seed);
  const out: DiffQuery[] = [];
  const seen = new Set<string>();
  for (const [tag, name, type] of UP_BASE) {
    out.push({ tag, name, type });
    seen.add(`${name}/${type}/false/false/false/false`);
    for (let i = 0; i < 6; i++) {
      const q = variant(rnd, tag, name, type, false);
      q.name = name; // one cache key per name: case would be another key in one, not the other
      const key = `${q.name}/${q.type}/${q.edns !== undefined}/${q.do}/${!!q.cd}/${!!q.tcp}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(q);
    }
  }
  return out;
}
