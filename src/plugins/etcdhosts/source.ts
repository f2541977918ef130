/**
 * The hosts file behind an etcdhosts plugin: one etcd key holding hosts(5) text, loaded at start,
 * kept current by a resilient watch (which re-reads after compaction or a cancelled watch), and
 * optionally re-read on a timer (`force_reload`).
 *
 * Serving never depends on etcd: queries read `table`, which is replaced whole after each
 * successful load. A failed read, a deleted key or a value with no usable line keeps the last
 * good table, with a log line and a metric. Starting never waits on etcd for long: when etcd is
 * down the plugin serves its inline entries and loads the key once etcd answers. TLS settings
 * that cannot work (EtcdTlsError: a bad file, a key that does not match, a rejected client
 * certificate) fail the start instead, since waiting would never help.
 */
import { type EtcdClient, EtcdTlsError, explainEtcdError } from "../../etcd/client.ts";
import { describeEndpoints, type EtcdOptions } from "../../etcd/options.ts";
import { type EtcdHandle, etcdPool } from "../../etcd/pool.ts";
import { ResilientWatch, type WatchEvent } from "../../etcd/watch.ts";
import { type HostsRecord, parseHosts } from "../../hostsfile/parse.ts";
import { HostsTable } from "../../hostsfile/table.ts";
import { Backoff } from "../../util/backoff.ts";
import { errorMessage } from "../../util/errors.ts";
import { type Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { dropState, publishState } from "../../plugin/shared_state.ts";
import type { PublishedHosts } from "../hosts/replica.ts";
import {
  badLinesGauge,
  entriesGauge,
  errorsCounter,
  reloadsCounter,
  reloadTimestamp,
  revisionGauge,
} from "./metrics.ts";

/** What an EtcdHostsSource reads and how it builds its table. */
export interface EtcdHostsOptions {
  etcd: EtcdOptions;
  /** The etcd key holding the hosts file. */
  key: string;
  zones: readonly string[];
  reverse: boolean;
  inline: readonly HostsRecord[];
  /** Re-read period in milliseconds; 0 disables the timer (the watch still runs). */
  forceReloadMs: number;
  log: Logger;
  /** Where each new table's records are published for worker threads (see hosts/replica.ts). */
  stateKey?: string;
}

/** The longest `start()` waits for the first load before letting the server serve. */
const MAX_START_WAIT_MS = 3000;
/** How many bad lines one load logs individually; the rest are counted. */
const MAX_LOGGED_PROBLEMS = 5;

/** A hosts file in etcd, kept in memory as a HostsTable. See the module comment. */
export class EtcdHostsSource implements Resource {
  /** The current table; replaced whole on each successful load. */
  table: HostsTable;
  readonly #o: EtcdHostsOptions;
  #loaded = false;
  /** The newest mod revision seen (served or rejected); older values are ignored. */
  #modRevision = 0;
  #hasData = false;
  /** The mod revision of the value served (the newest seen may be a rejected one). */
  #lastServed = 0;
  #keyMissing = false;
  #etcd: EtcdHandle | null = null;
  #client: EtcdClient | null = null;
  #watch: ResilientWatch | null = null;
  #closed = false;
  #run: Promise<void> | null = null;
  #forceTimer: ReturnType<typeof setInterval> | undefined;
  #forceRead: Promise<void> | null = null;
  #forceFailing = false;
  /** Aborted by `close()`, which cuts a retry wait short. */
  readonly #closing = new AbortController();
  /** A TLS setting that cannot work, found while connecting; fails `start()`. */
  #fatal: Error | null = null;
  #startDone = false;
  #settleFirst!: () => void;
  readonly #firstAttempt: Promise<void>;

  constructor(options: EtcdHostsOptions) {
    this.#o = options;
    this.table = HostsTable.build([options.inline], { reverse: options.reverse });
    this.#firstAttempt = new Promise((resolve) => (this.#settleFirst = resolve));
  }

  /** Whether the key has been read from etcd at least once (present or not). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The mod revision of the value served, 0 when none. */
  get revision(): number {
    return this.#hasData ? this.#lastServed : 0;
  }

  /** Whether a watch stream is established. */
  get watching(): boolean {
    return this.#watch?.connected ?? false;
  }

  /**
   * Starts loading and watching in the background, and waits a little (at most the etcd
   * timeout, capped at 3 s) for the first read so that a healthy cluster serves its records
   * from the first query. Never fails because etcd is down.
   */
  async start(): Promise<void> {
    entriesGauge.set([this.#o.key], this.table.size);
    this.#run = this.#connect();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = Math.min(this.#o.etcd.timeoutMs, MAX_START_WAIT_MS);
    await Promise.race([
      this.#firstAttempt,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, bound))),
    ]);
    clearTimeout(timer);
    this.#startDone = true;
    if (this.#fatal) throw this.#fatal;
    if (!this.#loaded && !this.#closed) {
      this.#o.log.warn(
        `cannot read key ${this.#o.key} from etcd at ${describeEndpoints(this.#o.etcd)} yet; ` +
          `serving the ${this.table.size} inline entries until etcd answers`,
      );
    }
  }

  /** Stops the watch and the timer and releases the shared client. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    if (this.#o.stateKey !== undefined) dropState(this.#o.stateKey);
    if (this.#forceTimer !== undefined) clearInterval(this.#forceTimer);
    this.#forceTimer = undefined;
    await this.#run;
    await this.#watch?.close();
    await this.#forceRead;
    this.#etcd?.release();
    this.#etcd = null;
    this.#client = null;
    this.#settleFirst();
  }

  /** Gets the client (retrying: a dns+srv lookup may fail for a while), then watches. */
  async #connect(): Promise<void> {
    const backoff = new Backoff({ minMs: 500, maxMs: 30_000 });
    let handle: EtcdHandle | null = null;
    while (!this.#closed) {
      try {
        handle = await etcdPool.acquire(this.#o.etcd);
        break;
      } catch (err) {
        if (err instanceof EtcdTlsError) {
          // Retrying cannot fix a file or a certificate: fail the start (or, if the start
          // stopped waiting already, say so once and stay not ready).
          this.#fatal = err;
          // start() throws it, and the server prints it; after start, log it here.
          if (this.#startDone) this.#o.log.error(`${err.message}; not retrying`);
          this.#settleFirst();
          return;
        }
        this.#o.log.error(`cannot set up the etcd client: ${errorMessage(err)}; retrying`);
        this.#settleFirst();
        await backoff.wait(this.#closing.signal);
      }
    }
    if (this.#closed || handle === null) {
      handle?.release();
      return;
    }
    this.#etcd = handle;
    const client = handle.client;
    this.#client = client;
    this.#watch = new ResilientWatch({
      client,
      key: this.#o.key,
      onEvents: (events) => this.#onEvents(events),
      onResync: () => this.#read(),
      log: this.#o.log,
      name: `key ${this.#o.key}`,
    });
    this.#watch.start();
    if (this.#o.forceReloadMs > 0) {
      this.#forceTimer = setInterval(() => this.#forceReload(), this.#o.forceReloadMs);
    }
  }

  /** Reads the key and applies it; resolves to the store revision of the read. */
  async #read(): Promise<number> {
    const client = this.#client;
    if (client === null || this.#closed) return 0;
    const { key, etcd } = this.#o;
    let res;
    try {
      res = await client.range({ key });
    } catch (err) {
      errorsCounter.inc([key, "read"]);
      this.#settleFirst();
      throw new Error(`${explainEtcdError(err, etcd)}; keeping the last good data`);
    }
    const revision = Number(res.header.revision);
    if (this.#closed) return revision;
    const kv = res.kvs[0];
    if (kv) this.#apply(kv.value, Number(kv.mod_revision));
    // A read that started before a newer put arrived by watch must not call the key absent.
    else if (revision >= this.#modRevision) this.#absent(revision);
    this.#loaded = true;
    this.#settleFirst();
    return revision;
  }

  #forceReload(): void {
    if (this.#forceRead !== null || this.#closed) return;
    this.#forceRead = this.#read().then(
      () => {
        if (this.#forceFailing) this.#o.log.info(`force_reload of key ${this.#o.key} works again`);
        this.#forceFailing = false;
      },
      (err) => {
        // One line per outage, not one per tick.
        if (!this.#forceFailing) this.#o.log.warn(`force_reload: ${errorMessage(err)}`);
        this.#forceFailing = true;
      },
    ).finally(() => (this.#forceRead = null));
  }

  #onEvents(events: WatchEvent[]): void {
    // Only the newest state of the one key matters.
    const last = events[events.length - 1];
    if (last.type === "put") this.#apply(last.value, last.modRevision);
    else this.#absent(last.modRevision);
  }

  /** The key is absent (never written, or deleted at `revision`): keep what we serve. */
  #absent(revision: number): void {
    if (this.#keyMissing) return;
    this.#keyMissing = true;
    const { key, log } = this.#o;
    if (this.#hasData) {
      errorsCounter.inc([key, "deleted"]);
      log.warn(
        `key ${key} was deleted from etcd (revision ${revision}); keeping the last good data ` +
          `(${this.table.size} entries, revision ${this.#lastServed}). Write it again with ` +
          `'etcdns hosts upload' or 'etcdns hosts rollback'`,
      );
    } else {
      log.warn(
        `key ${key} does not exist in etcd; serving the ${this.table.size} inline entries ` +
          `until it is written (e.g. 'etcdns hosts upload FILE')`,
      );
    }
  }

  /** Parses and serves a new value, unless it is older than what we have or wholly unusable. */
  #apply(bytes: Uint8Array, modRevision: number): void {
    this.#keyMissing = false;
    if (modRevision <= this.#modRevision) return;
    this.#modRevision = modRevision;
    const { key, log } = this.#o;
    const started = performance.now();
    const text = new TextDecoder().decode(bytes);
    const { records, problems, entryLines } = parseHosts(text, { zones: this.#o.zones });
    if (entryLines === 0) {
      // Empty, blank, comments only, or every line bad: never served, whatever it holds, so
      // that a truncated or mistaken write cannot wipe every record. Logged once (per revision).
      errorsCounter.inc([key, "rejected"]);
      const what = problems.length > 0
        ? `has no usable line (${problems.length} bad, line ${problems[0].line}: ${
          problems[0].reason
        })`
        : text.trim() === ""
        ? "is empty"
        : "holds only comments";
      const kept = this.#hasData
        ? `keeping the last good data (${
          plural(this.table.size, "entry", "entries")
        }, revision ${this.#lastServed})`
        : `serving the ${plural(this.table.size, "inline entry", "inline entries")}`;
      log.error(
        `key ${key} at revision ${modRevision} ${what}; ${kept}. A value without a usable line ` +
          `is never served: check it with 'etcdns hosts dump', fix it with 'etcdns hosts edit' ` +
          `or 'rollback'; to drop the records, write a file with one placeholder line`,
      );
      return;
    }
    if (problems.length > 0) {
      errorsCounter.inc([key, "bad_lines"]);
      for (const p of problems.slice(0, MAX_LOGGED_PROBLEMS)) {
        log.warn(`key ${key} revision ${modRevision} line ${p.line}: skipped: ${p.reason}`);
      }
      if (problems.length > MAX_LOGGED_PROBLEMS) {
        log.warn(
          `key ${key} revision ${modRevision}: ${
            problems.length - MAX_LOGGED_PROBLEMS
          } more bad lines skipped`,
        );
      }
    }
    this.table = HostsTable.build([records, this.#o.inline], { reverse: this.#o.reverse });
    if (this.#o.stateKey !== undefined) {
      publishState(this.#o.stateKey, { records } satisfies PublishedHosts);
    }
    this.#hasData = true;
    this.#lastServed = modRevision;
    badLinesGauge.set([key], problems.length);
    entriesGauge.set([key], this.table.size);
    revisionGauge.set([key], modRevision);
    reloadsCounter.inc([key]);
    reloadTimestamp.set([key], Date.now() / 1000);
    log.info(
      `loaded key ${key} at revision ${modRevision}: ${
        plural(this.table.size, "entry", "entries")
      } in ${(performance.now() - started).toFixed(0)} ms`,
    );
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
