/**
 * The differential suite: CoreDNS 1.15 (the oracle) and etcdns run the same Corefile (only the
 * ports differ) over the same hosts file and the same dnsmasq upstream; every generated query goes
 * to both and the replies are compared field by field (tests/diff/_compare.ts). Every difference
 * must be in tests/diff/allowlist.ts, which must equal docs/compatibility.md's table.
 *
 * Replay a corpus with DIFF_SEED=N; print every difference with DIFF_VERBOSE=1.
 */
import assert from "node:assert/strict";
import { startDnsmasq } from "../helpers/dnsmasq.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { udpSweep } from "../helpers/dns_client.ts";
import {
  describe,
  diffAll,
  type Difference,
  type DiffQuery,
  exchangeAll,
  packetOf,
} from "./_compare.ts";
import { distinctPorts } from "../helpers/ports.ts";
import { corednsPath, startCoreDns, type TestCoreDns, waitAnswering } from "../helpers/coredns.ts";
import { parseWire, type WireReply } from "./_wire.ts";
import { hostsQueries, hostsText, UPSTREAM_ARGS, upstreamQueries } from "./corpus.ts";
import { allowed, type AllowEntry, ALLOWLIST, matches } from "./allowlist.ts";
import { ROOT } from "../helpers/etcdns.ts";
import { BLOCKS, corefile, withPorts } from "./corefile.ts";
import { CRAFTED_QUERIES, startCrafted } from "./_crafted.ts";

const SEED = Number(Deno.env.get("DIFF_SEED") ?? "20261128");
const VERBOSE = Deno.env.get("DIFF_VERBOSE") === "1";
const peer = corednsPath();
if ("skip" in peer) {
  console.log(`%cdifferential suite skipped: ${peer.skip}`, "color: yellow");
}

/** One query to one port over UDP with a deadline; the reply and how long it took. */
async function timed(port: number, q: DiffQuery, timeoutMs: number) {
  const t0 = performance.now();
  const [r] = await udpSweep(port, [packetOf(q, 0)], { window: 1, retries: 0, timeoutMs });
  return { reply: r ? parseWire(r) : null, ms: Math.round(performance.now() - t0) };
}

/** The doc's table rows: `| \`CLASS\` | reason | pending |`. */
function docTable(): { cls: string; pending: boolean }[] {
  const doc = Deno.readTextFileSync(`${ROOT}docs/compatibility.md`);
  const start = doc.indexOf("## Differences from CoreDNS");
  assert.ok(start >= 0, "docs/compatibility.md has no 'Differences from CoreDNS' section");
  const section = doc.slice(start).split(/\n## /)[0];
  return section.split("\n").flatMap((l) => {
    const m = /^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|/.exec(l);
    return m ? [{ cls: m[1], pending: m[3].trim() !== "" && m[3].trim() !== "no" }] : [];
  });
}

Deno.test("differential: the allow-list is exactly docs/compatibility.md's table", () => {
  const doc = docTable();
  assert.deepEqual(
    doc.map((d) => `${d.cls} pending=${d.pending}`).sort(),
    ALLOWLIST.map((a) => `${a.cls} pending=${a.pending !== undefined}`).sort(),
  );
});

Deno.test({
  name: "differential: etcdns answers as CoreDNS does, except the allow-list",
  ignore: "skip" in peer,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if ("skip" in peer) return;
    const t0 = performance.now();
    console.log(`differential suite: seed ${SEED} (replay with DIFF_SEED=${SEED})`);
    const dir = await Deno.makeTempDir({ prefix: "etcdns-diff-" });
    const hostsPath = `${dir}/hosts`;
    await Deno.writeTextFile(hostsPath, hostsText());
    const dm = await startDnsmasq({ args: UPSTREAM_ARGS, ttl: 300, forkTcp: true });
    const hole = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const holePort = (hole.addr as Deno.NetAddr).port;
    const crafted = startCrafted();
    const ports = distinctPorts(BLOCKS.length * 2 + 1, [dm.port, holePort, crafted.port]);
    const dead = ports.pop()!; // closed: nothing listens there
    const text = corefile(hostsPath, dm.port, dead, holePort, crafted.port);
    const cPorts = ports.slice(0, BLOCKS.length);
    const ePorts = ports.slice(BLOCKS.length);
    let coredns: TestCoreDns | null = null;
    let etcdns: Awaited<ReturnType<typeof startEtcdns>> | null = null;
    const diffs: Difference[] = [];
    const counts: string[] = [];
    try {
      [coredns, etcdns] = await Promise.all([
        startCoreDns(withPorts(text, cPorts), { bin: peer.path, answering: cPorts }),
        startEtcdns({ corefile: withPorts(text, ePorts), port: ePorts[0] }),
      ]);
      await waitAnswering(ePorts, "etcdns");

      // All blocks at once: each block has its own ports, and each waits on its own replies.
      const hostsBlock = async (b: number) => {
        const qs = hostsQueries(SEED + b);
        const [rc, re] = await Promise.all([
          exchangeAll(cPorts[b], qs),
          exchangeAll(ePorts[b], qs),
        ]);
        // A query that differed is asked again, one at a time, up to twice: only a difference
        // that repeats every time counts. Stateless blocks only; it keeps a transient upstream
        // hiccup (either server's forward over TCP under parallel load) from reading as a class.
        let differing = qs.filter((_, i) => diffAll(BLOCKS[b], [qs[i]], [rc[i]], [re[i]]).length);
        let last: Difference[] = [];
        for (let attempt = 0; attempt < 2 && differing.length; attempt++) {
          const again = async (port: number) => {
            const out = [];
            for (const q of differing) out.push((await exchangeAll(port, [q]))[0]);
            return out;
          };
          const [ac, ae] = await Promise.all([again(cPorts[b]), again(ePorts[b])]);
          last = diffAll(BLOCKS[b], differing, ac, ae);
          differing = differing.filter((q) => last.some((d) => d.query === q));
        }
        diffs.push(...last);
        counts.push(`${BLOCKS[b]} ${qs.length}`);
      };

      // forward + cache: a cold pass (every query a distinct cache key, so each misses once in
      // each server), then the same again answered from both caches. TTLs count down, so they
      // compare within 2 s.
      const up = upstreamQueries(SEED + 3);
      let cold: WireReply[] = [];
      const cacheCold = async () => {
        const [cc, ce] = await Promise.all([
          exchangeAll(cPorts[3], up),
          exchangeAll(ePorts[3], up),
        ]);
        diffs.push(...diffAll("cache+forward (cold)", up, cc, ce, 2));
        cold = cc.map((r) => r!);
      };
      // The warm pass runs with dnsmasq stopped, so only what each cache kept can answer: the
      // queries CoreDNS answered with a cacheable rcode (NOERROR, incl. NODATA, or NXDOMAIN).
      const cacheWarm = async () => {
        const warm = up.flatMap((q, i) =>
          cold[i] && (cold[i].rcode === 0 || cold[i].rcode === 3)
            ? [{ ...q, tag: `${q.tag}.cached` }]
            : []
        );
        const [wc, we] = await Promise.all([
          exchangeAll(cPorts[3], warm),
          exchangeAll(ePorts[3], warm),
        ]);
        diffs.push(...diffAll("cache+forward (warm, upstream stopped)", warm, wc, we, 2));
        counts.push(`cache+forward ${up.length}+${warm.length}`);
      };

      // Dead and black-hole upstreams: the rcode, and etcdns no slower than CoreDNS (+1 s).
      const deadBlock = async (b: number, tag: string) => {
        const qs: DiffQuery[] = [
          { tag, name: "dead.example.test", type: "A" },
          { tag, name: "dead.example.test", type: "AAAA", edns: 1232 },
        ];
        await Promise.all(qs.map(async (q) => {
          const [c, e] = await Promise.all([
            timed(cPorts[b], q, 8000),
            timed(ePorts[b], q, 8000),
          ]);
          diffs.push(...diffAll(BLOCKS[b], [q], [c.reply], [e.reply]));
          if (e.ms > c.ms + 1000) {
            diffs.push({
              cls: `${tag}:time`,
              block: BLOCKS[b],
              query: q,
              detail: `coredns ${c.ms} ms, etcdns ${e.ms} ms`,
            });
          }
          if (VERBOSE) console.log(`${tag} ${q.type}: coredns ${c.ms} ms, etcdns ${e.ms} ms`);
        }));
        counts.push(`${BLOCKS[b]} ${qs.length}`);
      };

      // Reply shapes dnsmasq never sends, each asked twice: the second answer shows what each
      // cache kept (AA and TTLs), the first what TTLs each wrote on the way through.
      const craftedBlock = async () => {
        const b = BLOCKS.indexOf("cache+crafted");
        for (const pass of ["", ".again"]) {
          const qs = CRAFTED_QUERIES.map((q) => ({ ...q, tag: q.tag + pass }));
          const [rc, re] = await Promise.all([
            exchangeAll(cPorts[b], qs),
            exchangeAll(ePorts[b], qs),
          ]);
          diffs.push(...diffAll(BLOCKS[b], qs, rc, re, 2));
        }
        counts.push(`${BLOCKS[b]} ${CRAFTED_QUERIES.length * 2}`);
      };

      await Promise.all([
        craftedBlock(),
        hostsBlock(0),
        hostsBlock(1),
        hostsBlock(2),
        // Warm right after cold: a reply without TTLs (NODATA without SOA) lives 5 s.
        cacheCold().then(() => dm.stop()).then(cacheWarm),
        deadBlock(4, "up.dead"),
        deadBlock(5, "up.blackhole"),
      ]);
    } finally {
      await coredns?.stop();
      await etcdns?.stop();
      await dm.close();
      hole.close();
      crafted.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }

    // Report per class, with a sample query and how often it happened.
    const byClass = new Map<string, Difference[]>();
    for (const d of diffs) byClass.set(d.cls, [...(byClass.get(d.cls) ?? []), d]);
    const unexpected: string[] = [];
    const perEntry = new Map<AllowEntry, { classes: string[]; count: number; sample: string }>();
    for (const [cls, ds] of [...byClass].sort()) {
      const s = ds[0];
      const line = `${cls} (${ds.length}x, block ${s.block}): ${s.detail}\n    sample: ${
        describe(s.query)
      }`;
      const a = allowed(cls);
      if (!a) unexpected.push(line);
      else {
        const seen = perEntry.get(a) ?? { classes: [], count: 0, sample: line };
        seen.classes.push(cls);
        seen.count += ds.length;
        perEntry.set(a, seen);
      }
      if (VERBOSE) {
        console.log(`${a ? "allowed" : "UNEXPECTED"}: ${line}`);
        for (const d of ds.slice(1, 4)) {
          console.log(`    also: ${describe(d.query)}: ${d.detail}`);
        }
      }
    }
    // One line per allow-list entry; pending ones (bugs being fixed) loudly.
    for (const [a, seen] of perEntry) {
      const text = `${a.cls}: ${a.reason} (${seen.count} differences in ${seen.classes.length} ` +
        `classes)\n    e.g. ${seen.sample}`;
      if (a.pending) console.log(`%cPENDING FIX (${a.pending}): ${text}`, "color: red");
      else console.log(`allowed: ${text}`);
    }
    for (const a of ALLOWLIST) {
      if (![...byClass.keys()].some((c) => matches(a.cls, c))) {
        console.log(`allow-list entry not seen this run: ${a.cls}`);
      }
    }
    console.log(
      `differential suite: ${
        counts.join(", ")
      } queries; ${diffs.length} differences in ${byClass.size} classes; ${
        Math.round(performance.now() - t0)
      } ms`,
    );
    assert.equal(
      unexpected.length,
      0,
      `differences from CoreDNS not in tests/diff/allowlist.ts (seed ${SEED}):\n${
        unexpected.join("\n")
      }`,
    );
  },
});
