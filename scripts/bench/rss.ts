/**
 * Resident memory of a process, read from /proc/PID/status (Linux only): the figure `ps` and
 * `top` call RSS, which is what a node's memory budget pays for.
 *
 * As a library: `rssMiB(pid)`, `waitForSettledRss(pid)`. As a command:
 *   deno run --allow-read scripts/bench/rss.ts PID [PID...]   prints "PID RSS_MiB HWM_MiB"
 */

/** The memory lines of /proc/PID/status that matter here, in KiB. */
export interface MemoryStatus {
  /** Resident set size now (VmRSS). */
  rssKiB: number;
  /** The highest resident set size so far (VmHWM). */
  peakKiB: number;
}

/** Reads VmRSS and VmHWM of `pid` (default: this process). Throws if the process is gone. */
export function memoryStatus(pid: number | "self" = "self"): MemoryStatus {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string): number => {
    const m = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    if (!m) throw new Error(`/proc/${pid}/status has no ${name} line`);
    return Number(m[1]);
  };
  return { rssKiB: field("VmRSS"), peakKiB: field("VmHWM") };
}

/** RSS of `pid` in MiB, one decimal. */
export function rssMiB(pid: number | "self" = "self"): number {
  return toMiB(memoryStatus(pid).rssKiB);
}

/** KiB to MiB, one decimal. */
export function toMiB(kib: number): number {
  return Math.round(kib / 102.4) / 10;
}

/** Options for `waitForSettledRss`. */
export interface SettleOptions {
  /** How often to sample. Default 250 ms. */
  intervalMs?: number;
  /** Settled once this many consecutive samples stay within `toleranceKiB`. Default 8. */
  samples?: number;
  /** How much the samples of a settled window may differ. Default 512 KiB. */
  toleranceKiB?: number;
  /** Give up after this long and return the last sample. Default 15 s. */
  timeoutMs?: number;
  /** Stop early once RSS is at or below this (KiB), e.g. a bar being checked. */
  targetKiB?: number;
}

/**
 * Samples RSS until it stops moving (or reaches `targetKiB`, or the timeout passes) and returns
 * the last sample in KiB: after a load, garbage collection and the allocator return memory over
 * a few seconds, so one immediate reading overstates what stays.
 */
export async function waitForSettledRss(pid: number, opts: SettleOptions = {}): Promise<number> {
  const interval = opts.intervalMs ?? 250;
  const window = opts.samples ?? 8;
  const tolerance = opts.toleranceKiB ?? 512;
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const recent: number[] = [];
  for (;;) {
    const rss = memoryStatus(pid).rssKiB;
    if (opts.targetKiB !== undefined && rss <= opts.targetKiB) return rss;
    recent.push(rss);
    if (recent.length > window) recent.shift();
    const settled = recent.length === window &&
      Math.max(...recent) - Math.min(...recent) <= tolerance;
    if (settled || Date.now() >= deadline) return rss;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error("usage: rss.ts PID [PID...]");
    Deno.exit(2);
  }
  for (const arg of Deno.args) {
    const s = memoryStatus(Number(arg));
    console.log(`${arg} ${toMiB(s.rssKiB)} ${toMiB(s.peakKiB)}`);
  }
}
