/**
 * A resilient etcd watch over one key or one key range, shared by idetcd and etcdhosts.
 *
 * etcd watches fail in several quiet ways: the stream breaks when etcd restarts, the start
 * revision may have been compacted away while we were disconnected, etcd may cancel a watch,
 * and a half-open TCP connection can leave a stream that simply never speaks again. This
 * helper handles all of them the same way a careful Go client does:
 *
 * - it resumes from the last revision it delivered, so no event is lost or repeated;
 * - when that is impossible (compaction, cancellation), it calls `onResync()`, whose job is to
 *   re-read the data; it then watches again from the revision that read returned;
 * - a stream that has said nothing for a `progressIntervalMs` is checked: a small read must
 *   reach etcd through the same endpoint, and when two in a row fail, the stream is torn down and
 *   re-established (possibly on another endpoint);
 * - it never throws into the event loop: failures are logged and retried with a capped,
 *   jittered exponential backoff.
 *
 * Lifecycle: construct, `start()`, later `close()`. Each helper owns exactly one stream (one
 * gateway request), which it can reason about. A gateway stream takes no requests once open,
 * so etcd cannot be asked for progress notifications on it; hence the separate liveness read.
 */
import { Buffer } from "node:buffer";
import type { EtcdClient } from "./gateway.ts";
import type { WatchResponse } from "./wire.ts";
import { Backoff } from "../util/backoff.ts";
import { errorMessage } from "../util/errors.ts";
import { type Logger } from "../util/log.ts";

/** One change, decoded. */
export interface WatchEvent {
  type: "put" | "delete";
  key: string;
  /** The new value (empty for a delete). */
  value: Uint8Array;
  /** The revision of this change. */
  modRevision: number;
  /** When the key was created (0 for a delete). */
  createRevision: number;
  /** The key's lease ID as a decimal string ("0" when none). */
  lease: string;
}

/** What a `ResilientWatch` watches and whom it tells. */
export interface ResilientWatchOptions {
  /** The client to watch through. */
  client: EtcdClient;
  /** The key, or the first key of the range (strings are UTF-8). */
  key: string | Uint8Array;
  /**
   * The end of the range (exclusive); `"\0"` means every key from `key` on. Omit to watch
   * `key` alone; see `prefixEnd()` for a prefix.
   */
  rangeEnd?: string | Uint8Array;
  /** Called with each batch of events and the revision the view is now complete up to. */
  onEvents(events: WatchEvent[], revision: number): void;
  /**
   * Re-reads whatever the caller derives from the watched keys and resolves to the store
   * revision of that read. Called on `start()` when no revision is given, and whenever the
   * watch cannot simply resume (compaction, cancellation). A rejection is logged and retried.
   */
  onResync(): Promise<number>;
  /** Called when the stream goes up (true) or down (false), e.g. for readiness or metrics. */
  onConnection?(connected: boolean): void;
  /** Where problems are logged. */
  log: Logger;
  /** A name for log lines, e.g. `slots worker{{.ID}}.tf.local.`. */
  name: string;
  /** How long a silent stream waits before its endpoint is checked. Default 5000 ms. */
  progressIntervalMs?: number;
  /** The first retry delay; it doubles up to `maxBackoffMs`. Default 100 ms. */
  minBackoffMs?: number;
  /** The longest retry delay. Default 3000 ms. */
  maxBackoffMs?: number;
}

/** The exclusive range end that covers every key starting with `prefix`. */
export function prefixEnd(prefix: string | Uint8Array): Uint8Array {
  const bytes = typeof prefix === "string" ? Buffer.from(prefix) : prefix;
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

type Outcome = "closed" | "resync" | "retry";

/** A watch that survives disconnects, compaction and dead streams. See the module comment. */
export class ResilientWatch {
  readonly #o: ResilientWatchOptions;
  #revision = 0;
  #needResync = true;
  #closed = false;
  #started = false;
  #connected = false;
  #loop: Promise<void> | null = null;
  /** Aborted by `close()`, which cuts a retry wait short. */
  readonly #closing = new AbortController();
  #stopStream: (() => void) | null = null;
  readonly #backoff: Backoff;
  /** Consecutive failures since the stream was last up, to keep an outage from flooding the log. */
  #failures = 0;

  constructor(options: ResilientWatchOptions) {
    this.#o = options;
    this.#backoff = new Backoff({
      minMs: options.minBackoffMs ?? 100,
      maxMs: options.maxBackoffMs ?? 3000,
      jitter: 0.25,
    });
  }

  /** The revision up to which every event has been delivered (0 before the first read). */
  get revision(): number {
    return this.#revision;
  }

  /** Whether a watch stream is currently established. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Starts watching. With `fromRevision` (the revision of the caller's own read), events after
   * it are delivered; without it, `onResync()` is called first. Returns at once; the watch runs
   * in the background until `close()`.
   */
  start(fromRevision?: number): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (fromRevision !== undefined) {
      this.#revision = fromRevision;
      this.#needResync = false;
    }
    this.#loop = this.#run();
  }

  /** Forces a re-read and re-watch (e.g. when the caller suspects its view). */
  resync(): void {
    this.#needResync = true;
    this.#stopStream?.();
  }

  /** Stops the watch and waits until its stream is gone. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopStream?.();
    this.#closing.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      if (this.#needResync) {
        try {
          this.#revision = await this.#o.onResync();
          this.#needResync = false;
        } catch (err) {
          this.#problem(`re-read failed, retrying: ${errorMessage(err)}`);
          await this.#sleep();
          continue;
        }
        if (this.#closed) break;
      }
      let outcome: Outcome;
      try {
        outcome = await this.#watchOnce();
      } catch (err) {
        this.#problem(`watch failed, retrying: ${errorMessage(err)}`);
        outcome = "retry";
      }
      this.#setConnected(false);
      if (outcome === "closed") break;
      if (outcome === "resync") this.#needResync = true;
      await this.#sleep();
    }
  }

  /** Logs a failure: the first of a run, then every tenth, so an outage stays readable. */
  #problem(message: string): void {
    if (this.#failures++ % 10 === 0) {
      const count = this.#failures > 1 ? ` (${this.#failures} failures in a row)` : "";
      this.#o.log.warn(
        `${this.#o.name}: ${message}${count}`,
      );
    }
  }

  #setConnected(on: boolean): void {
    if (this.#connected === on) return;
    this.#connected = on;
    try {
      this.#o.onConnection?.(on);
    } catch (err) {
      this.#o.log.error(`${this.#o.name}: connection callback failed: ${errorMessage(err)}`);
    }
  }

  /** Waits the current back-off (cut short by `close()`) and grows it. */
  async #sleep(): Promise<void> {
    if (!this.#closed) await this.#backoff.wait(this.#closing.signal);
  }

  /** Runs one watch stream until it ends; says what to do next. */
  async #watchOnce(): Promise<Outcome> {
    if (this.#closed) return "closed";
    const o = this.#o;
    const stream = await o.client.watch({
      key: o.key,
      range_end: o.rangeEnd,
      start_revision: String(this.#revision + 1),
      progress_notify: true,
    });
    let outcome: Outcome | null = null;
    const finish = (next: Outcome) => {
      if (outcome !== null) return;
      outcome = next;
      stream.cancel();
    };
    this.#stopStream = () =>
      finish(this.#closed ? "closed" : this.#needResync ? "resync" : "retry");
    if (this.#closed) finish("closed");
    const liveness = new StreamLiveness(o, stream.endpoint, (silentMs) => {
      this.#problem(`watch stream silent for ${silentMs} ms and etcd not answering; reconnecting`);
      finish("retry");
    });
    try {
      for await (const res of stream.responses) {
        liveness.heard();
        if (outcome !== null) break;
        try {
          this.#handle(res, finish);
        } catch (err) {
          o.log.error(`${o.name}: watch response failed: ${errorMessage(err)}`);
        }
      }
    } catch (err) {
      if (outcome === null && !this.#closed) {
        this.#problem(`watch stream broke: ${errorMessage(err)}`);
      }
    } finally {
      liveness.stop();
      this.#stopStream = null;
      stream.cancel();
    }
    return outcome ?? (this.#closed ? "closed" : "retry");
  }

  #handle(res: WatchResponse, finish: (o: Outcome) => void): void {
    const o = this.#o;
    if (res.canceled) {
      const compacted = Number(res.compact_revision);
      if (compacted > 0) {
        o.log.warn(
          `${o.name}: revision ${this.#revision + 1} was compacted (now ${compacted}); re-reading`,
        );
      } else {
        o.log.warn(
          `${o.name}: etcd cancelled the watch (${res.cancel_reason || "no reason"}); re-reading`,
        );
      }
      finish("resync");
      return;
    }
    if (res.created) {
      this.#backoff.reset();
      if (this.#failures > 0) {
        o.log.info(`${o.name}: watch re-established after ${this.#failures} failed attempts`);
        this.#failures = 0;
      }
      this.#setConnected(true);
      return;
    }
    const events = res.events;
    if (events.length === 0) {
      // A progress notification: every event up to this revision has been sent.
      const rev = Number(res.header.revision);
      if (rev > this.#revision) this.#revision = rev;
      return;
    }
    const decoded: WatchEvent[] = events.map((e) => ({
      type: e.type === "DELETE" ? "delete" : "put",
      key: e.kv.key.toString(),
      value: e.kv.value,
      modRevision: Number(e.kv.mod_revision),
      createRevision: Number(e.kv.create_revision),
      lease: e.kv.lease,
    }));
    const last = decoded[decoded.length - 1].modRevision;
    if (last > this.#revision) this.#revision = last;
    try {
      o.onEvents(decoded, this.#revision);
    } catch (err) {
      o.log.error(`${o.name}: applying watch events failed: ${errorMessage(err)}`);
    }
  }
}

/**
 * Checks a silent watch stream: after each silent interval, one count-only read of the
 * watched range, which must reach etcd through the stream's endpoint. Two failures in a row
 * (etcd frozen, its host gone, the connection half-open) call `onDead`.
 */
class StreamLiveness {
  readonly #ticker: ReturnType<typeof setInterval>;
  #lastHeard = Date.now();
  #failures = 0;
  #checking = false;

  constructor(
    o: ResilientWatchOptions,
    endpoint: string,
    onDead: (silentMs: number) => void,
  ) {
    const interval = o.progressIntervalMs ?? 5000;
    this.#ticker = setInterval(() => {
      if (this.#checking || Date.now() - this.#lastHeard < interval) return;
      this.#checking = true;
      // Serializable: the member answers alone, so a thousand nodes' checks cost etcd no
      // quorum rounds; whether this endpoint answers is all the check asks.
      o.client.range({ key: o.key, range_end: o.rangeEnd, count_only: true, serializable: true })
        .then(() => o.client.currentEndpoint === endpoint, () => false)
        .then((alive) => {
          this.#checking = false;
          this.#failures = alive ? 0 : this.#failures + 1;
          if (this.#failures >= 2) onDead(Date.now() - this.#lastHeard);
        });
    }, interval);
  }

  /** The stream spoke. */
  heard(): void {
    this.#lastHeard = Date.now();
    this.#failures = 0;
  }

  stop(): void {
    clearInterval(this.#ticker);
  }
}
