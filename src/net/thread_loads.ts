/**
 * The serving threads' latest loads, in memory they all share (a SharedArrayBuffer).
 *
 * Each thread measures only its own CPU time, but whether a group of sockets should gather on
 * one depends on what all of them carry: the kernel's hash can split a load unevenly (eight
 * clients, two sockets), and a thread that guessed the group's load from its own share would
 * gather a load too heavy for one thread, which then spreads again at its next look.
 */

/** How long a thread's report counts: a thread that stopped looking (idle) counts as idle. */
export const LOAD_REPORT_TTL_MS = 1_500;

/** Per thread: its busy fraction and when it said so. */
const SLOT = 2;

/** The loads of one process's serving threads, indexed by thread (0: the main thread). */
export class ThreadLoads {
  /** The shared memory: give it to each worker thread, which wraps it in its own ThreadLoads. */
  readonly buffer: SharedArrayBuffer;
  // Plain reads and writes: a torn or late value only makes one estimate a little off.
  readonly #slots: Float64Array;

  /** Shares `shared`, or makes room for `shared` threads. */
  constructor(shared: SharedArrayBuffer | number) {
    this.buffer = typeof shared === "number"
      ? new SharedArrayBuffer(shared * SLOT * Float64Array.BYTES_PER_ELEMENT)
      : shared;
    this.#slots = new Float64Array(this.buffer);
  }

  /** Records that `thread` was busy this fraction of a core (0 to 1) at `now` (ms, Date.now()). */
  report(thread: number, busy: number, now: number): void {
    const i = thread * SLOT;
    if (i + 1 >= this.#slots.length) return;
    this.#slots[i] = busy;
    this.#slots[i + 1] = now;
  }

  /** The summed load of the threads that reported within LOAD_REPORT_TTL_MS of `now`. */
  total(now: number): number {
    let sum = 0;
    for (let i = 0; i + 1 < this.#slots.length; i += SLOT) {
      if (now - this.#slots[i + 1] <= LOAD_REPORT_TTL_MS) sum += this.#slots[i];
    }
    return sum;
  }
}
