/**
 * Descriptors this thread's code waits to read (forward's connected upstream sockets), polled by
 * the thread's serving listener (udp_native.ts) together with its own socket.
 *
 * A connected socket waiting on its own polls on Deno's blocking thread pool: two thread hops per
 * upstream reply, and a pool thread held per exchange in flight. Forwarding at 5,000 queries/s
 * cost 136-152 µs of CPU per query that way, twice what the same exchanges cost on Deno's own
 * sockets, and the hops queued up into tens of milliseconds of latency. The listener's loop is on
 * the JS thread anyway, and lingers in ppoll(2) between datagrams, so it watches these descriptors
 * too: a reply from a nearby upstream arrives within that linger, and costs no hop.
 *
 * A wait is accepted only while the host listener will poll it: not while the host itself waits on
 * the thread pool (its poll was already handed its descriptors), and not with no host; the socket
 * then polls on its own, as before.
 */
import { POLLIN } from "./libc.ts";

/** The most descriptors watched at once (connected_udp.ts opens no more than this). */
export const MAX_WATCHED = 256;

/** The waits of one thread, and the struct pollfd array its host polls. */
export class ThreadReadiness {
  /** struct pollfd entries: the host's own socket first, then one per wait. */
  readonly pollfds = new Uint8Array(new ArrayBuffer(8 * (1 + MAX_WATCHED)));
  /** The entries of the waits alone (for a poll that must not wake for the host's socket). */
  readonly watchedPollfds = this.pollfds.subarray(8);
  readonly #view = new DataView(this.pollfds.buffer);
  readonly #wakes: ((value: void) => void)[] = [];
  readonly #deadlines: number[] = [];
  #count = 0;
  #host: object | null = null;
  #hostWaiting = false;

  /** The waits in the array, each the host's to poll. */
  get count(): number {
    return this.#count;
  }

  /** Whether a wait started now will be polled by the host. */
  get accepting(): boolean {
    return this.#host !== null && !this.#hostWaiting && this.#count < MAX_WATCHED;
  }

  /**
   * Resolves when `fd` is readable (or shut down), once `deadline` (a Date.now() time) has
   * passed, or when the host stops: the caller then reads, and waits again if there was nothing.
   * Only while `accepting`.
   */
  wait(fd: number, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const i = this.#count++;
      const at = 8 * (i + 1);
      this.#view.setInt32(at, fd, true);
      this.#view.setInt16(at + 4, POLLIN, true);
      this.#view.setInt16(at + 6, 0, true);
      this.#wakes[i] = resolve;
      this.#deadlines[i] = deadline;
    });
  }

  /**
   * Makes `host`, serving socket `fd`, the poller of this thread's waits; false when another
   * already is.
   */
  attach(host: object, fd: number): boolean {
    if (this.#host !== null) return false;
    this.#host = host;
    this.#view.setInt32(0, fd, true);
    this.#view.setInt16(4, POLLIN, true);
    return true;
  }

  /** `host` stops polling: every wait is woken (each then polls on its own). */
  detach(host: object): void {
    if (this.#host !== host) return;
    this.#host = null;
    this.#hostWaiting = false;
    this.#wake(0, true);
  }

  /** Whether `host` polls this thread's waits. */
  hosts(host: object): boolean {
    return this.#host === host;
  }

  /** The host is in (true) or out of (false) a wait on the thread pool. */
  set hostWaiting(waiting: boolean) {
    this.#hostWaiting = waiting;
  }

  /** Whether the last poll found the host's own socket ready. */
  get hostReady(): boolean {
    return this.#view.getInt16(6, true) !== 0;
  }

  /** Milliseconds from `now` (Date.now()) to the earliest deadline, at most `most`. */
  msUntilDeadline(now: number, most: number): number {
    let soonest = most;
    for (let i = 0; i < this.#count; i++) soonest = Math.min(soonest, this.#deadlines[i] - now);
    return Math.max(0, Math.ceil(soonest));
  }

  /**
   * After a poll: wakes and removes each wait whose descriptor is ready or whose deadline is past
   * `now` (Date.now()); returns how many it woke.
   */
  dispatch(now: number): number {
    return this.#wake(now, false);
  }

  /** Wakes and removes the waits that are due (`all`: every one), keeping the rest packed. */
  #wake(now: number, all: boolean): number {
    const view = this.#view;
    view.setInt16(6, 0, true);
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      const at = 8 * (i + 1);
      if (all || view.getInt16(at + 6, true) !== 0 || this.#deadlines[i] <= now) {
        this.#wakes[i]();
        continue;
      }
      if (kept !== i) {
        view.setInt32(8 * (kept + 1), view.getInt32(at, true), true);
        this.#wakes[kept] = this.#wakes[i];
        this.#deadlines[kept] = this.#deadlines[i];
      }
      view.setInt16(8 * (kept + 1) + 6, 0, true);
      kept++;
    }
    const woken = this.#count - kept;
    this.#wakes.length = kept;
    this.#deadlines.length = kept;
    this.#count = kept;
    return woken;
  }
}

/** This thread's waits (each worker thread has its own module instance). */
export const readiness = new ThreadReadiness();
