/**
 * From per-round samples to the table: medians per scenario, the ratios issue 12 asks for
 * (to the echo, to CoreDNS on the same Corefile, CPU to dnsmasq's) and its bars, pass or fail.
 */
import type { Sample } from "./measure.ts";
import type { Scenario } from "./scenarios.ts";

/** Everything a run learned about one scenario. */
export interface Outcome {
  readonly scenario: Scenario;
  readonly samples: Sample[];
  readonly errors: string[];
  /** Why it did not run at all, or null. */
  readonly unavailable: string | null;
}

/** The medians of one scenario's samples (NaN where nothing was measured). */
export type Medians = { [K in keyof Sample]: number };

const MB = 1024 * 1024;

/** The median of the measured values (NaN ignored; Infinity sorts last). */
export function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Per-field medians of a scenario's samples. */
export function medians(samples: Sample[]): Medians {
  const keys = Object.keys(samples[0] ?? {}) as (keyof Sample)[];
  const out = {} as Medians;
  for (const k of keys) out[k] = median(samples.map((s) => s[k]));
  return out;
}

/** One bar of issue 12: its wording, and whether a row meets it (null: not measured). */
interface Bar {
  text: string;
  ok: boolean | null;
}

function compare(a: number, b: number, ok: (a: number, b: number) => boolean): boolean | null {
  return Number.isNaN(a) || Number.isNaN(b) ? null : ok(a, b);
}

/** The bars that apply to scenario `id`, given every scenario's medians. */
export function bars(id: string, peer: string | undefined, all: Map<string, Medians>): Bar[] {
  const m = all.get(id);
  if (!m || !id.startsWith("etcdns")) return [];
  const echo = all.get("echo");
  const dnsmasq = all.get("dnsmasq");
  const coredns = peer ? all.get(peer) : undefined;
  const out: Bar[] = [];
  const idleCap = id === "etcdns-example" ? 60 : 40;
  // The idle bars are for one process serving whoami, hosts or Corefile.example.
  if (id !== "etcdns-cache" && id !== "etcdns-hosts-workers") {
    out.push({
      text: `idle ≤ ${idleCap} MB`,
      ok: compare(m.rssIdle, idleCap * MB, (a, b) => a <= b),
    });
  }
  if (coredns) {
    out.push({
      text: "RSS after load ≤ CoreDNS's",
      ok: compare(m.rssAfter, coredns.rssAfter, (a, b) => a <= b),
    });
  }
  if (!Number.isNaN(m.peakSent)) {
    out.push({
      text: `settled ≤ 1.2× idle after ${Math.round(m.peakSent / 1000)}k queries`,
      ok: compare(m.rssSettled, m.rssIdle, (a, b) => a <= 1.2 * b),
    });
  }
  if (id === "etcdns-hosts" && echo) {
    out.push({
      text: "peak ≥ 0.9× echo",
      ok: compare(m.peakQps, echo.peakQps, (a, b) => a >= 0.9 * b),
    });
  }
  if (id === "etcdns-hosts-workers" && coredns) {
    out.push({
      text: "peak ≥ 1.5× CoreDNS",
      ok: compare(m.peakQps, coredns.peakQps, (a, b) => a >= 1.5 * b),
    });
  }
  if (dnsmasq && !Number.isNaN(m.cpuUs)) {
    out.push({
      text: "CPU ≤ 1.5× dnsmasq",
      ok: compare(m.cpuUs, dnsmasq.cpuUs, (a, b) => a <= 1.5 * b),
    });
  }
  if (!Number.isNaN(m.p99)) out.push({ text: "p99 ≤ 1 ms", ok: m.p99 <= 0.001 });
  return out;
}

const fixed = (x: number, digits: number) => Number.isFinite(x) ? x.toFixed(digits) : "—";
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) ? "—" : fixed(a / b, 2);
const mb = (x: number) => fixed(x / MB, 1);
const ms = (x: number) => x === Infinity ? "lost" : fixed(x * 1000, 3);

/** The markdown table, one row per scenario, with `rate` in the CPU column's heading. */
export function table(outcomes: Outcome[], rate: number): string {
  const all = new Map<string, Medians>();
  for (const o of outcomes) if (o.samples.length) all.set(o.scenario.id, medians(o.samples));
  const echo = all.get("echo");
  const dnsmasq = all.get("dnsmasq");
  const rows = outcomes.map((o) => {
    const sc = o.scenario;
    const m = all.get(sc.id);
    if (!m) {
      const why = o.unavailable ? `not available: ${o.unavailable}` : `failed: ${o.errors[0]}`;
      return `| ${
        [sc.label, escapeCell(why.split("\n")[0]), ...Array(10).fill("—")].join(" | ")
      } |`;
    }
    const peer = sc.peer ? all.get(sc.peer) : undefined;
    const rounds = o.errors.length
      ? ` (${o.samples.length} of ${o.samples.length + o.errors.length} rounds)`
      : "";
    const barCell = bars(sc.id, sc.peer, all)
      .map((b) => `${b.ok === null ? "?" : b.ok ? "✓" : "✗"} ${b.text}`)
      .join("; ");
    return [
      `${sc.label}${rounds}`,
      fixed(m.peakQps, 0),
      ratio(m.peakQps, echo?.peakQps),
      ratio(m.peakQps, peer?.peakQps),
      fixed(m.cpuUs, 1),
      ratio(m.cpuUs, dnsmasq?.cpuUs),
      ms(m.cpuLatency),
      ms(m.p99),
      mb(m.rssIdle),
      mb(m.rssAfter),
      mb(m.rssSettled),
      barCell || "—",
    ].join(" | ").replace(/^/, "| ").replace(/$/, " |");
  });
  return [
    `| server | peak qps | × echo | × CoreDNS | CPU µs/query @ ${rate} qps | × dnsmasq | ` +
    "mean ms at that rate | p99 ms @ ½ peak | RSS idle MB | after load MB | settled MB | bars |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** Every round's figures, for judging the spread behind the medians. */
export function roundsTable(outcomes: Outcome[]): string {
  const rows = outcomes.flatMap((o) =>
    o.samples.map((s, i) =>
      `| ${o.scenario.id} | ${i + 1} | ${fixed(s.peakQps, 0)} | ${fixed(s.cpuUs, 1)} | ` +
      `${fixed(s.cpuAnswered * 100, 1)} | ${ms(s.cpuLatency)} | ${ms(s.p99)} | ${
        mb(s.rssIdle)
      } | ` +
      `${mb(s.rssAfter)} | ` +
      `${mb(s.rssSettled)} |`
    )
  );
  return [
    "| scenario | round | peak qps | CPU µs/query | NOERROR % at fixed rate | mean ms at fixed rate | " +
    "p99 ms | RSS idle MB | after load MB | settled MB |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** A table cell's text: no pipes or newlines from error messages. */
function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").slice(0, 200);
}
