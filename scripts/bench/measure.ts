/**
 * One measurement of one scenario on a fresh server: RSS idle; peak queries per second; server
 * CPU per answered query at a fixed rate; p99 latency at half of this run's peak; RSS right after
 * the load and again after a pause.
 */
import { udpExchange } from "../../tests/helpers/dns_client.ts";
import { makeQuery } from "../../tests/helpers/query.ts";
import { dnsperf, percentile } from "./dnsperf.ts";
import { cpuSeconds, rssBytes } from "./proc.ts";
import type { Fixtures, Scenario } from "./scenarios.ts";

/** How hard and how long to push. */
export interface LoadPlan {
  /** Seconds per dnsperf run. */
  seconds: number;
  /** The fixed rate (queries/s) at which CPU per query is taken. */
  rate: number;
  /** The cap for the peak run: high enough never to be the limit. */
  peakCap: number;
  /** Seconds to let a fresh server settle before the idle RSS, and a loaded one before the last. */
  settle: number;
}

/** What one round measured for one scenario; NaN where a load was not taken. */
export interface Sample {
  rssIdle: number;
  peakQps: number;
  /** Queries sent in the peak run (the flood the settled RSS recovers from). */
  peakSent: number;
  /** Server CPU µs per answered query at `LoadPlan.rate`. */
  cpuUs: number;
  /** Share of the fixed-rate run's queries answered NOERROR. */
  cpuAnswered: number;
  /** Mean latency (seconds) of the fixed-rate run: what coalescing trades for CPU. */
  cpuLatency: number;
  /** Seconds; Infinity when lost queries reach the 99th percentile. */
  p99: number;
  rssAfter: number;
  rssSettled: number;
}

/** dnsperf commands as run, by load (peak, cpu, p99), for the report. */
export const COMMANDS = new Map<string, string>();
/** How the servers were started (`family: command`), for the report. */
export const SERVER_COMMANDS = new Set<string>();

/** Seconds of the fixed rate, unmeasured, before a row without a peak run is measured. */
const WARM_SECONDS = 3;

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

/** Sends each query of the mix once and checks for a NOERROR reply (also fills caches). */
async function warmUp(sc: Scenario, fx: Fixtures, port: number): Promise<void> {
  for (const [name, type] of await fx.queryNames(sc.queries)) {
    const reply = await udpExchange(port, makeQuery(name, type), 2000);
    if (reply === null) throw new Error(`${sc.id}: no reply to ${name} ${type}`);
    const rcode = reply[3] & 0x0f;
    if (rcode !== 0) throw new Error(`${sc.id}: rcode ${rcode} for ${name} ${type}`);
  }
}

/** Starts the scenario's server, measures it, and stops it whatever happens. */
export async function measureOnce(sc: Scenario, fx: Fixtures, plan: LoadPlan): Promise<Sample> {
  const server = await sc.start(fx);
  SERVER_COMMANDS.add(`${sc.family}: ${server.command}`);
  try {
    const queriesFile = fx.queriesFile(sc.queries);
    const load = async (what: string, rate: number, latencies = false, seconds = plan.seconds) => {
      const run = await dnsperf({
        port: server.port,
        queriesFile,
        seconds,
        rate,
        latencies,
      });
      COMMANDS.set(what, run.command.replace(/-Q \d+/, `-Q ${what === "p99" ? "PEAK/2" : rate}`));
      return run;
    };
    await sleep(plan.settle);
    const rssIdle = rssBytes(server.pid);
    await warmUp(sc, fx, server.port);
    const sample: Sample = {
      rssIdle,
      peakQps: NaN,
      peakSent: NaN,
      cpuUs: NaN,
      cpuAnswered: NaN,
      cpuLatency: NaN,
      p99: NaN,
      rssAfter: NaN,
      rssSettled: NaN,
    };
    if (sc.loads.peak) {
      const peak = await load("peak", plan.peakCap);
      sample.peakQps = peak.qps;
      sample.peakSent = peak.sent;
    }
    if (sc.loads.cpu) {
      // The peak run warms a server before this one; without it, V8 would compile the hot code
      // during the measured run (Corefile.example cold 25-35 us per query, warm 21-25): the bar
      // is for a steady load, so the rows without a peak get the fixed rate for a while first.
      if (!sc.loads.peak) {
        await load("warm", plan.rate, false, Math.min(plan.seconds, WARM_SECONDS));
      }
      const before = cpuSeconds(server.pid);
      const fixed = await load("cpu", plan.rate);
      const used = cpuSeconds(server.pid) - before;
      sample.cpuUs = fixed.completed > 0 ? (used * 1e6) / fixed.completed : NaN;
      sample.cpuAnswered = fixed.sent > 0 ? fixed.noerror / fixed.sent : NaN;
      sample.cpuLatency = fixed.meanLatency;
    }
    if (sc.loads.p99 && sample.peakQps > 0) {
      const half = await load("p99", sample.peakQps / 2, true);
      sample.p99 = percentile(half, 99);
    }
    sample.rssAfter = rssBytes(server.pid);
    await sleep(plan.settle);
    sample.rssSettled = rssBytes(server.pid);
    return sample;
  } finally {
    await server.stop();
  }
}
