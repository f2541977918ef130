/**
 * The one loop that reads every native listening socket serving on a thread (udp_native.ts).
 *
 * A node often listens on several addresses (`bind 127.0.0.1 10.0.0.21`), and each worker thread
 * then serves a socket per address. A loop per socket would block the others while it lingers or
 * sleeps a coalescing window, so each loop would have to wait on Deno's thread pool after every
 * read instead: with a second address bound (and idle), hosts on one thread cost 55-60 µs of CPU
 * per query at 15,000 queries/s against 22-24 with one. One loop polls them all, with the thread's
 * other waits (readiness.ts), and reads each socket its poll found readable.
 *
 * When the queues empty the loop first lingers a fraction of a millisecond in ppoll(2) on the JS
 * thread (under load the next datagram comes sooner, and this costs no thread hop); then it waits
 * in poll(2) on Deno's blocking thread pool. Under load it gives the event loop a turn every 2 ms
 * without leaving the thread (loop_turn.ts). While datagrams keep coming less than a linger apart,
 * the loop coalesces: having emptied the queues, it sleeps the coalescing window before it reads
 * again, so that one wake-up serves the several datagrams that came meanwhile (as a NIC's
 * interrupt moderation does). That is most of the CPU per query at moderate rates; each datagram
 * waits at most the window more. A window that gathers nothing ends it. A serving thread asks the
 * kernel for short time slices (thread_slice.ts), so that it waits less to run when it wakes.
 */
import { libc } from "./libc.ts";
import { logger } from "../util/log.ts";
import { errorMessage } from "../util/errors.ts";
import { ListenerWaits } from "./listener_waits.ts";
import { LoopWake } from "./loop_wake.ts";
import { readiness } from "./readiness.ts";
import { requestThreadSlice } from "./thread_slice.ts";

const log = logger("etcdns");

/**
 * How long (in whole milliseconds, so 1 to 2 ms) the loop reads and lingers without going back
 * to the event loop (timers, TCP, forward's exchanges that wait on their own): it then takes one
 * turn of it.
 */
const LOOP_TURN_MS = 2;
/** The most gathered in one window for the loop to keep sleeping: more, and batches form anyway. */
const COALESCE_MOST = 8;
/** Reads without windows after a window that gathered nothing. */
const COALESCE_COOLDOWN = 32;
/** The pause after a failed receive, so that a lasting error cannot spin the loop. */
const ERROR_PAUSE_MS = 10;

/** A listening socket as the loop reads it. */
export interface LoopListener {
  /** Its descriptor, polled while it serves. */
  readonly fd: number;
  /** Datagrams per read: a read this full may have left more. */
  readonly batch: number;
  /** Closed by its owner: the loop releases it before it polls again. */
  isClosed(): boolean;
  /** Its coalescing window in nanoseconds, 0 for none (the loop sleeps the shortest). */
  windowNs(): number;
  /** Reads and handles a batch; returns how many were read, or -1 after an error it logged. */
  read(): number;
  /** Called as the loop goes round, with the time (Date.now()), for its spread steering. */
  sample(now: number): void;
  /** Closes its descriptor; the loop no longer polls it. */
  release(): void;
}

interface Member {
  listener: LoopListener;
  /** Read it: its last poll found it readable, or nothing says it is not. */
  ready: boolean;
  /** Settles its serve(). */
  released: () => void;
  failed: (err: unknown) => void;
}

/** The listening sockets serving on this thread, read by one loop. */
export class ListenerLoop {
  /** In the order of their entries in the thread's poll array. */
  #members: Member[] = [];
  /** Added since the last sweep (which gives them their entries). */
  #joining: Member[] = [];
  #changed = false;
  #running = false;
  #waits: ListenerWaits | null = null;
  #wake: LoopWake | null = null;
  #windowNs = 0;
  #sliceAsked = false;

  /** Whether a pool wait is pending: a listener closed now must be shut down to end it. */
  get polling(): boolean {
    return this.#waits?.polling ?? false;
  }

  /** How many listeners the loop reads (for tests). */
  get serving(): number {
    return this.#members.length + this.#joining.length;
  }

  /**
   * Reads `listener` with the thread's others until it is closed; resolves once the loop has
   * released it. Needs libc (the listener's owner has it).
   */
  serve(listener: LoopListener): Promise<void> {
    return new Promise((released, failed) => {
      this.#joining.push({ listener, ready: true, released, failed });
      this.#changed = true;
      if (!this.#running) this.#start();
      else if (this.polling) this.#wake?.ring(); // no wake socket: read after that wait (≤ 1 s)
    });
  }

  /** A listener closed or changed its window: the loop takes note before its next wait. */
  changed(): void {
    this.#changed = true;
  }

  #start(): void {
    this.#running = true;
    const c = libc()!;
    this.#waits ??= new ListenerWaits(c);
    this.#wake ??= LoopWake.open(c);
    if (!this.#sliceAsked) {
      this.#sliceAsked = true;
      const refused = requestThreadSlice(c);
      log.debug(`short time slices for this serving thread: ${refused || "asked for"}`);
    }
    readiness.attach(this);
    void this.#run(this.#waits);
  }

  async #run(waits: ListenerWaits): Promise<void> {
    try {
      await this.#loop(waits);
    } catch (err) { // a bug: say so, and end every serve() with it rather than hang
      log.error(`udp listener loop stopped: ${errorMessage(err)}`);
      this.#stop(err);
    }
  }

  async #loop(waits: ListenerWaits): Promise<void> {
    // Date.now, not performance.now: a V8 builtin, where performance.now is a Deno op (2% of the
    // loop's time at peak), and whole milliseconds are fine for a turn.
    let turnStarted = Date.now();
    // Datagrams have been coming less than a linger apart; the last wait was a window; reads
    // left before windows are tried again.
    let busy = false, slept = false, cooldown = 0;
    while (this.#sweep()) {
      let got = 0, full = false, failed = false;
      for (const member of this.#members) {
        if (!member.ready) continue;
        const n = member.listener.read();
        if (n < 0) failed = true;
        else got += n;
        // A full batch may have left more; a short one emptied the queue.
        if (n === member.listener.batch) full = true;
        else member.ready = false;
      }
      if (failed) { // transient (ENOMEM, ENOBUFS): pause, and go on, as the Deno path does
        await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
        this.#allReady();
        continue;
      }
      if (Date.now() - turnStarted < LOOP_TURN_MS) {
        if (full) {
          slept = false;
          continue;
        }
        // A window that gathered nothing: the rate is too low for windows to pay (each is a
        // sleep and a wake-up of its own), so linger for the next COALESCE_COOLDOWN reads.
        if (slept && got === 0) cooldown = COALESCE_COOLDOWN;
        else if (cooldown > 0 && got > 0) cooldown--;
        slept = busy && cooldown === 0 && got > 0 && got <= COALESCE_MOST && this.#windowNs > 0;
        if (slept) {
          const woken = waits.sleepWindow();
          if (woken) await woken;
          this.#allReady(); // the window did not watch them
          continue;
        }
        const lingered = waits.linger();
        busy = typeof lingered === "boolean" ? lingered : await lingered;
        if (busy) {
          this.#readyFromPoll();
          continue;
        }
        busy = slept = false; // the queues are empty, and lingering found nothing
        await waits.wait();
        this.#readyFromPoll();
      } else {
        // The turn is up: the event loop runs once, and reading goes on (a queue may not be
        // empty, so nothing waits for the sockets). Upstream replies come in with it.
        slept = false;
        await waits.glance();
        await waits.turn();
        this.#allReady();
      }
      turnStarted = Date.now();
      for (const member of this.#members) member.listener.sample(turnStarted);
    }
    this.#stop(null); // in the turn that found none left: a serve() after it starts a new loop
  }

  /**
   * Between polls: releases the listeners closed since the last look, and puts the others'
   * descriptors (and the wake's) in the thread's poll array. Returns whether any is left.
   */
  #sweep(): boolean {
    if (!this.#changed) return this.#members.length > 0;
    this.#changed = false;
    const kept: Member[] = [];
    for (const member of [...this.#members, ...this.#joining]) {
      if (!member.listener.isClosed()) kept.push(member);
      else this.#release(member);
    }
    this.#members = kept;
    this.#joining = [];
    const fds = kept.map((m) => m.listener.fd);
    if (this.#wake) fds.push(this.#wake.fd);
    readiness.setListeners(fds);
    const windows = kept.map((m) => m.listener.windowNs());
    this.#windowNs = windows.length === 0 ? 0 : Math.min(...windows);
    this.#waits!.windowNs = this.#windowNs;
    return kept.length > 0;
  }

  /** Marks the listeners the last poll of the whole array found readable; drains the wake. */
  #readyFromPoll(): void {
    const members = this.#members;
    for (let i = 0; i < members.length; i++) {
      if (readiness.listenerReady(i)) members[i].ready = true;
    }
    if (this.#wake && readiness.listenerReady(members.length)) this.#wake.drain();
  }

  #allReady(): void {
    for (const member of this.#members) member.ready = true;
  }

  #release(member: Member, err: unknown = null): void {
    try {
      member.listener.release();
    } finally {
      if (err === null) member.released();
      else member.failed(err);
    }
  }

  /**
   * The loop ended, with no listener left or with `err`, and releases those still there (their
   * serve() rejects with it). Runs as the loop exits, so that a serve() just after starts anew.
   */
  #stop(err: unknown): void {
    readiness.detach(this);
    const left = [...this.#members, ...this.#joining];
    this.#members = [];
    this.#joining = [];
    for (const member of left) this.#release(member, err ?? new Error("the listener loop ended"));
    this.#waits?.close();
    this.#waits = null;
    this.#wake?.close();
    this.#wake = null;
    this.#running = false;
  }
}

/** This thread's listener loop (each worker thread has its own module instance). */
export const listenerLoop = new ListenerLoop();
