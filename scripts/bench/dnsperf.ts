/**
 * dnsperf runs: each bounded by its time limit (-l) and killed if it overruns, registered with
 * live.ts so that Ctrl-C stops it too. Latency percentiles come from dnsperf's verbose mode (-v),
 * which prints one line per answered query with its latency; dnsperf 2.10 has no histogram.
 *
 * dnsperf writes to a file, read once it has finished: read from a pipe while the load ran, its
 * 20-30 MB of -v lines made this process a third busy program on the cores that the server and
 * dnsperf share (etcdns hosts at 85k queries/s, 3 runs each, interleaved: p99 0.51-1.08 ms with
 * a file, 0.90-1.28 ms through a pipe).
 */
import { track } from "./live.ts";

/** One dnsperf run against 127.0.0.1. */
export interface LoadOptions {
  port: number;
  /** A dnsperf data file: one `NAME TYPE` line per query, sent round-robin. */
  queriesFile: string;
  seconds: number;
  /** Queries per second cap (-Q). */
  rate: number;
  /** Collect each query's latency (-v). */
  latencies?: boolean;
}

/** What a dnsperf run reported. */
export interface LoadResult {
  sent: number;
  completed: number;
  /** Answers with rcode NOERROR (a REFUSED or SERVFAIL is completed but not served). */
  noerror: number;
  lost: number;
  qps: number;
  /** dnsperf's mean latency of answered queries, in seconds. */
  meanLatency: number;
  /** Seconds per answered query, when asked for; lost queries are not in it. */
  latencies: number[];
  /** The command line, with QUERIES for the data file and PORT for the port. */
  command: string;
}

/** Concurrency: enough in flight that the server, not dnsperf's window, is the limit. */
const CLIENTS = 8;
const OUTSTANDING = 256;
/** Seconds before an unanswered query counts as lost. */
const TIMEOUT_S = 2;

/** Runs dnsperf once and parses its statistics. */
export async function dnsperf(opts: LoadOptions): Promise<LoadResult> {
  const args = [
    ...["-s", "127.0.0.1", "-p", String(opts.port), "-d", opts.queriesFile],
    ...["-l", String(opts.seconds), "-Q", String(Math.max(1, Math.round(opts.rate)))],
    ...["-c", String(CLIENTS), "-q", String(OUTSTANDING), "-t", String(TIMEOUT_S)],
    ...(opts.latencies ? ["-v"] : []),
  ];
  const command = `dnsperf ${args.join(" ")}`
    .replace(opts.queriesFile, "QUERIES")
    .replace(` -p ${opts.port} `, " -p PORT ");
  const outFile = await Deno.makeTempFile({ prefix: "etcdns-bench-dnsperf-" });
  const child = new Deno.Command("sh", {
    args: ["-c", 'out="$1"; shift; exec dnsperf "$@" >"$out"', "sh", outFile, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  };
  const untrack = track(async () => {
    kill();
    await child.status;
  });
  // dnsperf stops itself after -l seconds plus the query timeout; anything longer is a hang.
  const watchdog = setTimeout(kill, (opts.seconds + TIMEOUT_S + 10) * 1000);
  try {
    const out = await child.output();
    const text = await Deno.readTextFile(outFile);
    const stats = text.slice(text.lastIndexOf("Statistics:"));
    const field = (re: RegExp) => Number(re.exec(stats)?.[1] ?? NaN);
    const sent = field(/Queries sent:\s+(\d+)/);
    if (!out.success || Number.isNaN(sent)) {
      const err = new TextDecoder().decode(out.stderr);
      throw new Error(`${command} failed (${out.code}):\n${text.slice(-2000)}${err.slice(-2000)}`);
    }
    return {
      sent,
      completed: field(/Queries completed:\s+(\d+)/),
      noerror: Number(/Response codes:.*\bNOERROR (\d+)/.exec(stats)?.[1] ?? 0),
      lost: field(/Queries lost:\s+(\d+)/),
      qps: field(/Queries per second:\s+([\d.]+)/),
      meanLatency: field(/Average Latency \(s\):\s+([\d.]+)/),
      latencies: opts.latencies ? verboseLatencies(text) : [],
      command,
    };
  } finally {
    clearTimeout(watchdog);
    await untrack();
    await Deno.remove(outFile).catch(() => {});
  }
}

/** The latencies of `> RCODE NAME TYPE SECONDS` lines in dnsperf -v output. */
function verboseLatencies(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/^> \S+ .* ([\d.]+)$/gm)) out.push(Number(m[1]));
  return out;
}

/**
 * The `p`-th percentile (0-100) of a run's latencies in seconds, counting each lost query as
 * slower than any answer: Infinity when the lost ones reach into the percentile.
 */
export function percentile(run: LoadResult, p: number): number {
  const sorted = Float64Array.from(run.latencies).sort();
  const total = sorted.length + run.lost;
  if (total === 0) return NaN;
  const rank = Math.max(0, Math.ceil((p / 100) * total) - 1);
  return rank < sorted.length ? sorted[rank] : Infinity;
}
