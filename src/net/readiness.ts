/**
 * The descriptors this thread polls while a listener loop (listener_loop.ts) serves on it: the
 * loop's listening sockets first, then the waits of the thread's other code (forward's connected
 * upstream sockets), all in one struct pollfd array that the loop hands to each poll.
 *
 * A connected socket waiting on its own polls on Deno's blocking thread pool: two thread hops per
 * upstream reply, and a pool thread held per exchange in flight. Forwarding at 5,000 queries/s
 * cost 136-152 µs of CPU per query that way, twice what the same exchanges cost on Deno's own
 * sockets, and the hops queued up into tens of milliseconds of latency. The loop is on the JS
 * thread anyway, and lingers in ppoll(2) between datagrams, so it watches these descriptors too: a
 * reply from a nearby upstream arrives within that linger, and costs no hop.
 *
 * A wait is accepted only while the loop will poll it: not while the loop itself waits on the
 * thread pool (its poll was already handed its descriptors), and not with no loop; the socket
 * then polls on its own, as before.
 */
import { POLLIN } from "./libc.ts";

/** The most waits watched at once (connected_udp.ts opens no more than this). */
export const MAX_WATCHED = 256;
/** Bytes per struct pollfd. */
const POLLFD = 8;

/** The listening sockets and waits of one thread, and the struct pollfd array that polls them. */
export class ThreadReadiness {
  /** struct pollfd entries: `#listeners` listening sockets, then one per wait. */
  #pollfds = new Uint8Array(new ArrayBuffer(POLLFD * MAX_WATCHED));
  #view = new DataView(this.#pollfds.buffer);
  #watchedPollfds = this.#pollfds;
  #listeners = 0;
  readonly #wakes: ((value: void) => void)[] = [];
  readonly #deadlines: number[] = [];
  #count = 0;
  #host: object | null = null;
  #hostWaiting = false;

  /** The listening sockets' entries, then the waits': the array to poll. */
  get pollfds(): Uint8Array {
    return this.#pollfds;
  }

  /** The waits' entries alone (for a poll that must not wake for the listening sockets). */
  get watchedPollfds(): Uint8Array {
    return this.#watchedPollfds;
  }

  /** The listening sockets at the head of `pollfds`. */
  get listeners(): number {
    return this.#listeners;
  }

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
      this.#entry(this.#listeners + i, fd);
      this.#wakes[i] = resolve;
      this.#deadlines[i] = deadline;
    });
  }

  /** Makes `host` the poller of this thread's waits; false when another already is. */
  attach(host: object): boolean {
    if (this.#host !== null) return false;
    this.#host = host;
    return true;
  }

  /** `host` stops polling: every wait is woken (each then polls on its own). */
  detach(host: object): void {
    if (this.#host !== host) return;
    this.#host = null;
    this.#hostWaiting = false;
    this.#wake(0, true);
    this.setListeners([]);
  }

  /** The host is in (true) or out of (false) a wait on the thread pool. */
  set hostWaiting(waiting: boolean) {
    this.#hostWaiting = waiting;
  }

  /**
   * Puts `fds`, the host's listening sockets, at the head of the array (the waits move behind
   * them). Not during a poll: the array may be replaced.
   */
  setListeners(fds: readonly number[]): void {
    const before = this.#listeners;
    const after = fds.length;
    const waits = POLLFD * this.#count;
    if (POLLFD * (after + MAX_WATCHED) > this.#pollfds.length) {
      const grown = new Uint8Array(new ArrayBuffer(POLLFD * (after + MAX_WATCHED)));
      grown.set(this.#pollfds.subarray(POLLFD * before, POLLFD * before + waits), POLLFD * after);
      this.#pollfds = grown;
      this.#view = new DataView(grown.buffer);
    } else {
      this.#pollfds.copyWithin(POLLFD * after, POLLFD * before, POLLFD * before + waits);
    }
    this.#listeners = after;
    this.#watchedPollfds = this.#pollfds.subarray(POLLFD * after);
    fds.forEach((fd, i) => this.#entry(i, fd));
  }

  /** Whether the last poll of the whole array found listening socket `i` readable. */
  listenerReady(i: number): boolean {
    return this.#view.getInt16(POLLFD * i + 6, true) !== 0;
  }

  /** Whether the last poll of the whole array found any listening socket readable. */
  get anyListenerReady(): boolean {
    for (let i = 0; i < this.#listeners; i++) if (this.listenerReady(i)) return true;
    return false;
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

  /** Entry `i` polls `fd` for input, nothing seen yet. */
  #entry(i: number, fd: number): void {
    const at = POLLFD * i;
    this.#view.setInt32(at, fd, true);
    this.#view.setInt16(at + 4, POLLIN, true);
    this.#view.setInt16(at + 6, 0, true);
  }

  /** Wakes and removes the waits that are due (`all`: every one), keeping the rest packed. */
  #wake(now: number, all: boolean): number {
    const view = this.#view;
    const base = this.#listeners;
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      const at = POLLFD * (base + i);
      if (all || view.getInt16(at + 6, true) !== 0 || this.#deadlines[i] <= now) {
        this.#wakes[i]();
        continue;
      }
      if (kept !== i) {
        view.setInt32(POLLFD * (base + kept), view.getInt32(at, true), true);
        this.#wakes[kept] = this.#wakes[i];
        this.#deadlines[kept] = this.#deadlines[i];
      }
      view.setInt16(POLLFD * (base + kept) + 6, 0, true);
      kept++;
    }
    const woken = this.#count - kept;
    this.#wakes.length = kept;
    this.#deadlines.length = kept;
    this.#count = kept;
    return woken;
  }
}

/** This thread's descriptors (each worker thread has its own module instance). */
export const readiness = new ThreadReadiness();
