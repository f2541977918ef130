/**
 * Gives back to the system the memory the C allocator keeps after a busy period.
 *
 * V8 compiles hot code on background threads, and glibc keeps what those threads free in arenas
 * of their own rather than returning it: after 6 s of dnsperf at full speed on the hosts
 * benchmark, 5-6 MB of the process's RSS, held for good (65 -> 59.5 MB with one malloc_trim(3),
 * which took about a millisecond). So the trimmer reads the process's CPU time every second, and
 * when a busy period (a second of CPU or more since the last trim) is followed by a quiet second,
 * it trims once; an idle node wakes for a clock read. A load that goes on is trimmed while it
 * runs, once per 5 s of CPU: the compiles that leave this memory come in its first seconds, and a
 * trim costs the serving thread about a millisecond. (Compiling on the serving thread instead,
 * V8's --no-concurrent-recompilation, stalled Corefile.example's replies for up to 100 ms.)
 */
import { CLOCK_PROCESS_CPUTIME_ID, cpuClockNs, type Libc, libc } from "../net/libc.ts";
import { logger } from "../util/log.ts";

const debug = logger("server").debug;

/** How often the trimmer looks, in milliseconds. */
const CHECK_MS = 1_000;
/** CPU time since the last trim that makes a busy period, in milliseconds. */
const BUSY_CPU_MS = 1_000;
/** The most CPU a check interval may hold to count as quiet (5% of a core). */
const QUIET_CPU_MS = CHECK_MS / 20;
/** CPU time since the last trim after which a load still running is trimmed, in milliseconds. */
const LOADED_CPU_MS = 5_000;

/** Trims glibc's heap after each busy period; inert where libc FFI or malloc_trim is missing. */
export class MallocTrimmer {
  readonly #c: Libc | null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastCheckMs = 0;
  #lastTrimMs = 0;
  /** Trims done, for tests. */
  trims = 0;

  /** `loadedCpuMs` is for tests. */
  constructor(c: Libc | null = libc(), readonly loadedCpuMs: number = LOADED_CPU_MS) {
    this.#c = c?.malloc_trim ? c : null;
  }

  /** Starts watching; a no-op where there is nothing to trim with. */
  start(): void {
    if (this.#c === null || this.#timer !== null) return;
    this.#lastCheckMs = this.#lastTrimMs = this.#cpuMs();
    const timer = setInterval(() => this.check(), CHECK_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops watching. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One look: trims when a busy period has just ended or has lasted. Returns whether it trimmed. */
  check(): boolean {
    const c = this.#c;
    if (c === null) return false;
    const now = this.#cpuMs();
    const interval = now - this.#lastCheckMs;
    this.#lastCheckMs = now;
    const busy = now - this.#lastTrimMs;
    const quietAfterBusy = interval <= QUIET_CPU_MS && busy >= BUSY_CPU_MS;
    if (!quietAfterBusy && busy < this.loadedCpuMs) return false;
    const started = performance.now();
    c.malloc_trim!(0n);
    this.#lastTrimMs = this.#cpuMs();
    this.#lastCheckMs = this.#lastTrimMs;
    this.trims++;
    debug(
      `malloc_trim ${quietAfterBusy ? "after" : "during"} a busy period: ${
        (performance.now() - started).toFixed(1)
      } ms`,
    );
    return true;
  }

  /** The process's CPU time (every thread's), in milliseconds; 0 when it cannot be read. */
  #cpuMs(): number {
    return Math.max(0, cpuClockNs(this.#c!, CLOCK_PROCESS_CPUTIME_ID)) / 1e6;
  }
}
