/**
 * The hosts file behind a hosts plugin: read at start, then re-read whenever its modification
 * time or size changes (checked every `reload`), as CoreDNS does. A file that disappears or
 * cannot be read keeps the last good table.
 */
import { HostsTable } from "../../hostsfile/table.ts";
import { type HostsRecord, parseHosts } from "../../hostsfile/parse.ts";
import { errorMessage } from "../../util/errors.ts";
import { type Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { metrics } from "../../metrics/registry.ts";
import { dropState, publishState } from "../../plugin/shared_state.ts";
import type { PublishedHosts } from "./replica.ts";

const entriesGauge = metrics.gauge(
  "coredns_hosts_entries",
  "The combined number of entries in hosts and Corefile.",
);
const reloadTimestamp = metrics.gauge(
  "coredns_hosts_reload_timestamp_seconds",
  "The timestamp of the last reload of hosts file.",
);

/** What a HostsFileSource reads and how it builds its table. */
export interface HostsFileOptions {
  path: string;
  zones: readonly string[];
  reverse: boolean;
  inline: readonly HostsRecord[];
  /** The check period in milliseconds; 0 reads once. */
  reloadMs: number;
  log: Logger;
  /** Where each new table's records are published for worker threads (see replica.ts). */
  stateKey?: string;
}

/** How many bad lines one load logs individually; the rest are counted. */
const MAX_LOGGED_PROBLEMS = 5;

/** A hosts file kept in memory as a HostsTable. */
export class HostsFileSource implements Resource {
  /** The current table; replaced whole on each successful load. */
  table: HostsTable;
  #timer: ReturnType<typeof setInterval> | undefined;
  #mtime = -1;
  #size = -1;
  #reading = false;
  #missing = false;
  #closed = false;

  constructor(readonly options: HostsFileOptions) {
    this.table = HostsTable.build([options.inline], { reverse: options.reverse });
  }

  /** Reads the file once, then starts the change check. */
  async start(): Promise<void> {
    await this.check();
    entriesGauge.set([], this.table.size);
    if (this.options.reloadMs > 0 && !this.#closed) {
      this.#timer = setInterval(() => void this.check(), this.options.reloadMs);
    }
  }

  /** Stops the change check. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.options.stateKey !== undefined) dropState(this.options.stateKey);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  /** Re-reads the file if its modification time or size changed. Never throws. */
  async check(): Promise<void> {
    if (this.#reading || this.#closed) return;
    this.#reading = true;
    const { path, log } = this.options;
    try {
      let stat: Deno.FileInfo;
      try {
        stat = await Deno.stat(path);
      } catch (err) {
        if (!this.#missing) {
          this.#missing = true;
          log.warn(
            err instanceof Deno.errors.NotFound
              ? `hosts file ${path} does not exist; serving ${
                this.#mtime < 0 ? "the inline entries" : "its last good contents"
              } until it appears`
              : `cannot read hosts file ${path}: ${errorMessage(err)}; keeping the last good data`,
          );
        }
        return;
      }
      if (this.#missing) {
        this.#missing = false;
        log.info(`hosts file ${path} is back`);
      }
      if (stat.isDirectory) {
        log.warn(`hosts file ${path} is a directory; give the path of a file`);
        return;
      }
      const mtime = stat.mtime?.getTime() ?? 0;
      if (mtime === this.#mtime && stat.size === this.#size) return;
      const bytes = await Deno.readFile(path);
      const text = new TextDecoder().decode(bytes);
      const { records, problems } = parseHosts(text, { zones: this.options.zones });
      for (const p of problems.slice(0, MAX_LOGGED_PROBLEMS)) {
        log.warn(`${path}:${p.line}: skipped: ${p.reason}`);
      }
      if (problems.length > MAX_LOGGED_PROBLEMS) {
        log.warn(`${path}: ${problems.length - MAX_LOGGED_PROBLEMS} more bad lines skipped`);
      }
      this.table = HostsTable.build([records, this.options.inline], {
        reverse: this.options.reverse,
      });
      if (this.options.stateKey !== undefined) {
        publishState(this.options.stateKey, { records } satisfies PublishedHosts);
      }
      this.#mtime = mtime;
      this.#size = stat.size;
      entriesGauge.set([], this.table.size);
      reloadTimestamp.set([], Date.now() / 1000);
      log.debug(`parsed ${path}: ${this.table.size} entries`);
    } catch (err) {
      log.warn(`cannot read hosts file ${path}: ${errorMessage(err)}; keeping the last good data`);
    } finally {
      this.#reading = false;
    }
  }
}
