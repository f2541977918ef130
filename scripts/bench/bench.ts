/**
 * `deno task bench`: etcdns side by side with the Deno UDP echo, dnsmasq and CoreDNS on loopback,
 * measured with dnsperf in interleaved rounds (every server once per round, fresh each time),
 * medians reported as a markdown table and written, with the commands, to docs/benchmarks.md.
 * Every process it starts is stopped on exit, error, Ctrl-C or SIGTERM; every load is bounded.
 */
import { parseArgs } from "node:util";
import { ROOT } from "../../tests/helpers/etcdns.ts";
import { benchmarksPage, loadAverage, type RunInfo } from "./doc.ts";
import { stopAll, stopAllOnSignals } from "./live.ts";
import { type LoadPlan, measureOnce } from "./measure.ts";
import { type Outcome, table } from "./report.ts";
import { Fixtures, SCENARIOS } from "./scenarios.ts";

const USAGE = `Usage: scripts/deno task bench [OPTIONS]

  --rounds N         interleaved rounds (default 3)
  --seconds S        seconds per dnsperf run; three runs per server and round (default 6)
  --rate Q           the fixed rate for CPU per query, queries/s (default 15000)
  --settle S         rest before the idle RSS and before the settled RSS (default 2)
  --quick            a smoke run in under a minute: defaults 1 round, 1 s, settle 0.5 s
  --only IDS         comma-separated scenario ids to run (default: all)
  --skip IDS         comma-separated scenario ids not to run
  --workers-line L   the Corefile line for the workers scenario (default "workers 2")
  --note TEXT        a line at the top of docs/benchmarks.md (e.g. "Provisional: ...")
  --out FILE         where to write the page (default docs/benchmarks.md)
  --no-write         print the table only
  --json FILE        also write the outcomes as JSON
  --list             list the scenario ids and exit

Scenario ids: ${SCENARIOS.map((s) => s.id).join(", ")}.`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string" },
    seconds: { type: "string" },
    rate: { type: "string", default: "15000" },
    settle: { type: "string" },
    quick: { type: "boolean" },
    only: { type: "string" },
    skip: { type: "string" },
    "workers-line": { type: "string", default: "workers 2" },
    note: { type: "string" },
    out: { type: "string", default: `${ROOT}docs/benchmarks.md` },
    "no-write": { type: "boolean" },
    json: { type: "string" },
    list: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});

function fail(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!(n > 0 && n <= max)) fail(`--${name} must be a number in (0, ${max}], not ${text}`);
  return n;
}

function ids(list: string | undefined): Set<string> | null {
  if (list === undefined) return null;
  const out = new Set(list.split(",").map((s) => s.trim()).filter(Boolean));
  for (const id of out) {
    if (!SCENARIOS.some((s) => s.id === id)) fail(`unknown scenario ${id}`);
  }
  return out;
}

if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.id.padEnd(22)} ${s.label}`);
  Deno.exit(0);
}

const quick = values.quick ?? false;
const rounds = Math.round(positive("rounds", values.rounds ?? (quick ? "1" : "3"), 20));
const plan: LoadPlan = {
  seconds: Math.round(positive("seconds", values.seconds ?? (quick ? "1" : "6"), 120)),
  rate: Math.round(positive("rate", values.rate, 1_000_000)),
  peakCap: 500_000,
  settle: positive("settle", values.settle ?? (quick ? "0.5" : "2"), 60),
};
const only = ids(values.only);
const skip = ids(values.skip) ?? new Set();
const selected = SCENARIOS.filter((s) => (only?.has(s.id) ?? true) && !skip.has(s.id));
if (selected.length === 0) fail("no scenario selected");

const run: RunInfo = {
  args: Deno.args,
  rounds,
  ...plan,
  workersLine: values["workers-line"],
  note: values.note,
  started: new Date(),
  loadAverage: loadAverage(),
};

const undoSignals = stopAllOnSignals();
const fx = await Fixtures.create(run.workersLine);
const outcomes: Outcome[] = [];
try {
  for (const scenario of selected) {
    const unavailable = await scenario.unavailable(fx).catch((err) => `${err}`);
    if (unavailable) console.error(`bench: ${scenario.id}: not available: ${unavailable}`);
    outcomes.push({ scenario, samples: [], errors: [], unavailable });
  }
  const runnable = outcomes.filter((o) => !o.unavailable);
  const perServer = runnable.reduce(
        (sum, o) => sum + Object.values(o.scenario.loads).filter(Boolean).length,
        0,
      ) * (plan.seconds + 1) + runnable.length * (2 * plan.settle + 3);
  console.error(
    `bench: ${runnable.length} servers × ${rounds} rounds, about ${
      Math.ceil((perServer * rounds) / 60)
    } min`,
  );
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round, so no server always runs first or right after a heavy one.
    const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]);
    for (const o of order) {
      console.error(`bench: round ${round + 1}/${rounds}: ${o.scenario.id} ...`);
      try {
        o.samples.push(await measureOnce(o.scenario, fx, plan));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        console.error(`bench: ${o.scenario.id} failed: ${message}`);
        o.errors.push(message);
      }
    }
  }
  console.log(table(outcomes, plan.rate));
  if (values.json) {
    const json = outcomes.map((o) => ({
      id: o.scenario.id,
      label: o.scenario.label,
      unavailable: o.unavailable,
      errors: o.errors,
      samples: o.samples,
    }));
    // Infinity (a p99 in lost queries) is not JSON; write it as null.
    await Deno.writeTextFile(
      values.json,
      JSON.stringify(json, (_, v) => Number.isFinite(v) || typeof v !== "number" ? v : null, 2),
    );
  }
  if (!values["no-write"]) {
    await Deno.writeTextFile(values.out, await benchmarksPage(run, outcomes, fx));
    // The page lives in docs/, which `deno fmt --check` covers: format it as written.
    await new Deno.Command(`${ROOT}scripts/deno`, {
      args: ["fmt", "--quiet", "--config", `${ROOT}deno.json`, values.out],
    })
      .output();
    console.error(`bench: wrote ${values.out}`);
  }
} finally {
  await stopAll();
  await fx.remove();
  undoSignals();
}
