/**
 * `deno task bench` keeps working: a tiny run (one round of one second: the echo, the floor and
 * etcdns whoami) measures every figure and writes a page; and the statistics it reports by are
 * right.
 */
import assert from "node:assert/strict";
import { ROOT } from "../helpers/etcdns.ts";
import { percentile } from "../../scripts/bench/dnsperf.ts";
import { median } from "../../scripts/bench/report.ts";

interface JsonOutcome {
  id: string;
  unavailable: string | null;
  errors: string[];
  samples: Record<string, number | null>[];
}

Deno.test("bench: median ignores unmeasured values and sorts numerically", () => {
  assert.equal(median([3, NaN, 1, 2]), 2);
  assert.equal(median([10, 9, 100, 2]), 9.5);
  assert.ok(Number.isNaN(median([NaN])));
  assert.equal(median([1, Infinity, Infinity]), Infinity);
});

Deno.test("bench: p99 counts lost queries as the slowest", () => {
  const latencies = Array.from({ length: 99 }, (_, i) => (i + 1) / 1e5);
  const run = {
    sent: 100,
    completed: 99,
    noerror: 99,
    qps: 0,
    meanLatency: 0,
    command: "",
    latencies,
  };
  assert.equal(percentile({ ...run, lost: 1 }, 99), 99 / 1e5);
  assert.equal(percentile({ ...run, lost: 2 }, 99), Infinity);
  assert.equal(percentile({ ...run, lost: 0 }, 50), 50 / 1e5);
});

Deno.test({
  name: "bench: a one-second round of the echo, the floor and etcdns whoami measures every figure",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-bench-test-" });
    try {
      const out = await new Deno.Command(`${ROOT}scripts/bench/run`, {
        args: [
          ...["--quick", "--settle", "0.2", "--rate", "2000"],
          ...["--only", "echo,floor,etcdns-whoami", "--note", "Provisional: a test run."],
          ...["--out", `${dir}/benchmarks.md`, "--json", `${dir}/bench.json`],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, said);
      const outcomes = JSON.parse(await Deno.readTextFile(`${dir}/bench.json`)) as JsonOutcome[];
      assert.deepEqual(outcomes.map((o) => o.id), ["echo", "floor", "etcdns-whoami"]);
      for (const o of outcomes) {
        assert.deepEqual(o.errors, [], said);
        assert.equal(o.samples.length, 1, said);
        const s = o.samples[0];
        // The floor is measured idle only: it holds the runtime, not a DNS server's work.
        const keys = o.id === "floor"
          ? ["rssIdle", "rssAfter", "rssSettled"]
          : ["rssIdle", "peakQps", "cpuUs", "cpuLatency", "rssAfter", "rssSettled"];
        for (const key of keys) {
          assert.ok((s[key] ?? 0) > 0, `${o.id} ${key} = ${s[key]}\n${said}`);
        }
        if (o.id === "floor") continue;
        assert.ok(s.cpuAnswered! > 0.9, `${o.id} answered ${s.cpuAnswered}`);
        assert.ok(s.p99 === null || s.p99 > 0, `${o.id} p99 = ${s.p99}`);
      }
      const page = await Deno.readTextFile(`${dir}/benchmarks.md`);
      assert.match(page, /^# Benchmarks\n\n> Provisional: a test run\./);
      assert.match(page, /\| etcdns `whoami` +\| \d+ +\| \d\.\d\d +\|/);
      assert.match(page, /\| Deno floor \(the echo, a timer, libc; etcdns's flags\) +\| — +\|/);
      assert.match(page, /dnsperf -s 127\.0\.0\.1 -p PORT -d QUERIES -l 1 -Q 2000 /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
