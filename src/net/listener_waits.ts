/**
 * The ways the listener loop (listener_loop.ts) waits: lingering in ppoll(2) on the JS thread,
 * sleeping a coalescing window, waiting in poll(2) on Deno's blocking thread pool, and taking a
 * turn of the event loop. All but the turn also watch the thread's other waits (readiness.ts:
 * forward's upstream sockets), and a woken wait's continuation runs at once, in a turn of the
 * event loop.
 */
import type { Libc } from "./libc.ts";
import { EventLoopTurn } from "./loop_turn.ts";
import { readiness } from "./readiness.ts";

/**
 * How long the loop, its queues just emptied, waits on the JS thread for the next datagram before
 * it waits on Deno's thread pool. A pool wait costs two thread hops (about 10 µs of CPU) per wake,
 * so under load it would cost as much as answering; a short wait here is one system call. It
 * blocks the event loop, so it is short, and bounded by the loop's turns.
 */
const LINGER_NS = 200_000;
/** The longest a pool wait lasts before the loop looks again (a close also wakes it at once). */
const POLL_MS = 1000;

/** The listener loop's waits, over the thread's poll array (readiness.ts). */
export class ListenerWaits {
  readonly #c: Libc;
  /**
   * The linger's struct timespec (16 bytes), the coalescing window's (16) and a zero one (16):
   * off V8's heap, so they never move.
   */
  readonly #area = new Uint8Array(new ArrayBuffer(48));
  readonly #view = new DataView(this.#area.buffer);
  readonly #linger = this.#area.subarray(0, 16);
  readonly #window = this.#area.subarray(16, 32);
  readonly #zero = this.#area.subarray(32, 48);
  readonly #turn = new EventLoopTurn();
  #polling = false;

  constructor(c: Libc) {
    this.#c = c;
    this.#view.setBigInt64(0, BigInt(Math.floor(LINGER_NS / 1e9)), true);
    this.#view.setBigInt64(8, BigInt(LINGER_NS % 1e9), true);
  }

  /** Whether a pool wait is pending (a close must shut its socket down to end it). */
  get polling(): boolean {
    return this.#polling;
  }

  /** The coalescing window's length. */
  set windowNs(ns: number) {
    this.#view.setBigInt64(16, BigInt(Math.floor(ns / 1e9)), true);
    this.#view.setBigInt64(24, BigInt(ns % 1e9), true);
  }

  /** Closes the turn's socket. */
  close(): void {
    this.#turn.close();
  }

  /**
   * Lingers; returns whether to read again at once: a listening socket became readable
   * (readiness.listenerReady says which), or a watched wait was woken (the linger is then not
   * over: its reply's query may well have company).
   */
  linger(): Promise<boolean> | boolean {
    return this.#look(this.#linger);
  }

  /** Looks, without waiting, whether a watched wait is ready (the loop is busy reading). */
  async glance(): Promise<void> {
    if (readiness.count > 0) await this.#look(this.#zero);
  }

  /**
   * Sleeps the coalescing window: not woken by the listening sockets (gathering their datagrams
   * is the point), but by a watched wait, which must not wait out windows until the loop next
   * lingers.
   */
  sleepWindow(): Promise<void> | void {
    const watched = readiness.count;
    if (this.#c.ppoll(readiness.watchedPollfds, BigInt(watched), this.#window, 0n) <= 0) return;
    if (readiness.dispatch(Date.now()) > 0) return this.#yield();
  }

  /**
   * Waits on Deno's thread pool until a listening socket (or a watched one) is readable, closed,
   * or POLL_MS (or the first watched deadline) passed.
   */
  async wait(): Promise<void> {
    const watched = readiness.count;
    this.#polling = true;
    // Even with nothing watched: a wait started now (a health check's, say) would not be polled.
    readiness.hostWaiting = true;
    try {
      const ms = watched === 0 ? POLL_MS : readiness.msUntilDeadline(Date.now(), POLL_MS);
      await this.#c.poll(readiness.pollfds, BigInt(readiness.listeners + watched), ms);
    } finally {
      this.#polling = false;
      readiness.hostWaiting = false;
    }
    if (watched > 0 && readiness.dispatch(Date.now()) > 0) await this.#yield();
  }

  /** One turn of the event loop without leaving the thread, or a pool wait where there is none. */
  async turn(): Promise<void> {
    if (!(await this.#turn.take())) await this.wait();
  }

  /**
   * ppoll for `timespec` on the JS thread. Returns whether a listening socket is readable or a
   * watched wait was woken; woken waits' continuations run first (#yield).
   */
  #look(timespec: Uint8Array): Promise<boolean> | boolean {
    const all = BigInt(readiness.listeners + readiness.count);
    const found = this.#c.ppoll(readiness.pollfds, all, timespec, 0n);
    if (readiness.count === 0) return found > 0;
    // Even when nothing was found: a wait whose deadline has passed is woken too.
    const ready = found > 0 && readiness.anyListenerReady;
    if (readiness.dispatch(Date.now()) === 0) return ready;
    return this.#yield().then(() => true);
  }

  /**
   * A turn of the event loop, so that what a woken wait goes on to do (a chain of promises, all
   * of it microtasks) is done before the loop lingers again, which blocks the thread. Not a
   * MessageChannel message, though it costs a third as much: Deno delivers it from a promise's
   * continuation, amid the chain's own microtasks, so the loop went back to its linger with the
   * chain half done and a forwarded reply waited out the linger (180 µs from the upstream's reply
   * to forward's resuming, against 30 µs with the turn; mean latency at 5,000 queries/s 0.70-1.41
   * ms against 0.57-0.65).
   */
  async #yield(): Promise<void> {
    if (!(await this.#turn.take())) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
