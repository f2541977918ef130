/**
 * reload: checks the Corefile and its imports every INTERVAL (± JITTER/2) and reloads the server
 * when their contents changed. A failed reload keeps the running config; the broken files are
 * not retried until they change again.
 */
import { metrics } from "../../metrics/registry.ts";
import { type ActivatedConfig, onConfigActivated, requestReload } from "../../plugin/lifecycle.ts";
import type { Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import type { ReloadConfig } from "./setup.ts";

/** Failed reloads the plugin asked for (CoreDNS's name). */
export const reloadFailed = metrics.counter(
  "coredns_reload_failed_total",
  "Counter of the number of failed reload attempts.",
);

/** The hash of the running config's files (CoreDNS's name and labels). */
export const reloadVersion = metrics.gauge(
  "coredns_reload_version_info",
  "A metric with a constant '1' value labeled by hash, and value which type of hash generated.",
  ["hash", "value"],
);

/** SHA-512 over every file's path and contents, in order; a missing file hashes as missing. */
export async function hashFiles(files: readonly string[]): Promise<string> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(encoder.encode(`${file}\u0000`));
    try {
      const data = await Deno.readFile(file);
      parts.push(encoder.encode(`${data.length}\u0000`), data);
    } catch {
      parts.push(encoder.encode("missing\u0000"));
    }
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Watches the serving config's files and asks the server to reload when they change. */
export class CorefileWatcher implements Resource {
  /** This watcher's period: INTERVAL plus a random offset in [-JITTER/2, JITTER/2). */
  readonly periodMs: number;
  #files: readonly string[] = [];
  #current: string | null = null;
  /** Bumped on every config activation, so that a check started before it is ignored. */
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: (() => void) | null = null;
  #closed = false;
  /** The file hashing in flight, which close() waits for (it never waits for a reload). */
  #hashing: Promise<unknown> = Promise.resolve();
  #checks = 0;

  constructor(readonly config: ReloadConfig, readonly log: Logger) {
    this.periodMs = config.intervalMs + Math.floor(Math.random() * config.jitterMs) -
      Math.floor(config.jitterMs / 2);
  }

  /** How many times the files have been checked so far. */
  get checks(): number {
    return this.#checks;
  }

  start(): Promise<void> {
    // The server announces the config once it serves; the first check is scheduled from there.
    this.#unsubscribe = onConfigActivated((c) => this.#activated(c));
    return Promise.resolve();
  }

  /** On shutdown (which may take a while under health's lameduck), stops checking at once. */
  beforeStop(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    // Waits for file reads, but never for a reload in flight: that may be the very reload
    // closing this watcher.
    await this.#hashing;
  }

  #activated(config: ActivatedConfig): void {
    const generation = ++this.#generation;
    clearTimeout(this.#timer);
    this.#files = config.files;
    this.#hash(config.files).then((hash) => {
      if (this.#closed || generation !== this.#generation) return;
      this.#current = hash;
      reloadVersion.reset();
      reloadVersion.set(["sha512", hash], 1);
      this.log.info(`Running configuration SHA512 = ${hash}`);
      this.#schedule();
    });
  }

  #hash(files: readonly string[]): Promise<string> {
    const hashing = hashFiles(files);
    this.#hashing = hashing.catch(() => {});
    return hashing;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#files.length === 0) return;
    this.#timer = setTimeout(() => void this.#check(), this.periodMs);
  }

  async #check(): Promise<void> {
    const generation = this.#generation;
    const hash = await this.#hash(this.#files);
    this.#checks++;
    if (this.#closed || generation !== this.#generation) return;
    if (hash === this.#current) return this.#schedule();
    // Remember the new hash before reloading, so that a broken file is tried once, not every tick.
    this.#current = hash;
    const ok = await requestReload("plugin/reload noticed a change");
    if (this.#closed) return;
    if (!ok) reloadFailed.inc();
    // After a successful reload the activation has already scheduled the next check.
    if (generation === this.#generation) this.#schedule();
  }
}
