/**
 * The shared etcd connections: one client per distinct `EtcdOptions`, reference-counted, so
 * that every user with the same settings (idetcd's claimer and view, etcdhosts, discovery, a
 * CLI command) shares one client and its connections. The last `release()` closes
 * the client. Plugins acquire through their Resource's `start()` and release in `close()`, so
 * a reload that keeps the settings keeps the connection.
 */
import { connectEtcd } from "./client.ts";
import type { EtcdClient } from "./gateway.ts";
import { type EtcdOptions, etcdOptionsKey } from "./options.ts";

/** A claim on a shared client; `release()` once done (a second call does nothing). */
export interface EtcdHandle {
  readonly client: EtcdClient;
  release(): void;
}

interface Entry {
  client: Promise<EtcdClient>;
  refs: number;
}

/** Shared, reference-counted etcd clients keyed by their settings. */
export class EtcdPool {
  readonly #entries = new Map<string, Entry>();
  readonly #connect: (opts: EtcdOptions) => Promise<EtcdClient>;

  /** `connect` builds a client (default `connectEtcd`); tests may pass their own. */
  constructor(connect: (opts: EtcdOptions) => Promise<EtcdClient> = connectEtcd) {
    this.#connect = connect;
  }

  /** How many distinct clients are open (for tests and diagnostics). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The client for `opts`, built on first use. A failed build (bad TLS files, an empty
   * dns+srv lookup) rejects every caller that waited for it and is forgotten, so the next
   * `acquire` tries again.
   */
  async acquire(opts: EtcdOptions): Promise<EtcdHandle> {
    const key = etcdOptionsKey(opts);
    let entry = this.#entries.get(key);
    if (!entry) {
      const created: Entry = { client: this.#connect(opts), refs: 0 };
      entry = created;
      this.#entries.set(key, created);
      created.client.catch(() => {
        if (this.#entries.get(key) === created) this.#entries.delete(key);
      });
    }
    entry.refs++;
    let client: EtcdClient;
    try {
      client = await entry.client;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    let released = false;
    const held = entry;
    return {
      client,
      release: () => {
        if (released) return;
        released = true;
        if (--held.refs > 0) return;
        if (this.#entries.get(key) === held) this.#entries.delete(key);
        client.close();
      },
    };
  }
}

/** The process's pool: every plugin and command takes its clients from here. */
export const etcdPool = new EtcdPool();

/** Runs `fn` with the pool's client for `opts`, released when `fn` settles. */
export async function withEtcd<T>(
  opts: EtcdOptions,
  fn: (client: EtcdClient) => Promise<T>,
  pool: EtcdPool = etcdPool,
): Promise<T> {
  const handle = await pool.acquire(opts);
  try {
    return await fn(handle.client);
  } finally {
    handle.release();
  }
}
