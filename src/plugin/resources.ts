/**
 * Long-lived things plugins share across server blocks and keep across reloads: slot claims,
 * watched views, hosts sources, HTTP listeners. (Their etcd clients come from the
 * reference-counted pool in src/etcd/pool.ts, acquired in `start` and released in `close`.)
 *
 * Setup code never opens anything itself; it asks the pool for a resource by key. A reload
 * builds the new config against the same pool: resources whose key the new config asks for
 * again are handed over as they are (so an unchanged idetcd block keeps its slot), the rest are
 * closed once the new config is serving.
 *
 * With `workers N`, every worker thread builds the same config against its own pool. Resources
 * are then of two kinds: per-worker ones (`use`: UDP listeners, forward's proxies, hosts-file
 * sources, replicas of the etcd-backed tables) exist once in every thread, and per-node ones
 * (`perNode`: HTTP listeners, slot claims, watches of etcd, the reload watcher) exist only in
 * the main thread; a worker's pool hands out null for them. docs/architecture.md, "Where shared
 * state lives", says which is which and why.
 */

/**
 * Something with a lifecycle. `start` runs once before the config that first asked for it
 * serves. `close` must also be safe on a resource that was never started (`etcdns check` and a
 * failed reload build configs whose resources never start).
 */
export interface Resource {
  start?(): Promise<void>;
  /** Runs on shutdown only, before anything closes (health's lameduck, ready's "Shutting down"). */
  beforeStop?(): Promise<void>;
  close(): Promise<void>;
}

/** The view of the pool that setup code gets. */
export interface Resources {
  /** Returns the resource under `key`, creating it with `create` if this pool has none yet. */
  use<T extends Resource>(key: string, create: () => T): T;
  /**
   * Like `use`, for what one node runs once, in its main thread (HTTP listeners, slot claims,
   * etcd watches, the reload watcher): null in a worker thread's pool, where `create` never runs.
   */
  perNode<T extends Resource>(key: string, create: () => T): T | null;
  /** True in a worker thread's pool (see the module comment). */
  readonly worker: boolean;
}

interface Entry {
  resource: Resource;
  started: boolean;
}

/** Owns every resource of the running server and its reloads. */
export class ResourcePool {
  #live = new Map<string, Entry>();
  #pending: Map<string, Entry> | null = null;

  /** @param worker true for a worker thread's pool, which creates no per-node resources. */
  constructor(readonly worker = false) {}

  /** Begins building a config: returns the `Resources` its setup uses. */
  begin(): Resources {
    const pending = new Map<string, Entry>();
    this.#pending = pending;
    const use = <T extends Resource>(key: string, create: () => T): T => {
      const entry = pending.get(key) ?? this.#live.get(key) ??
        { resource: create(), started: false };
      pending.set(key, entry);
      return entry.resource as T;
    };
    const worker = this.worker;
    return {
      use,
      perNode: <T extends Resource>(key: string, create: () => T): T | null =>
        worker ? null : use(key, create),
      worker,
    };
  }

  /** Starts the resources the pending config added. On failure, closes what it added. */
  async start(): Promise<void> {
    const pending = this.#pending;
    if (!pending) return;
    try {
      for (const entry of pending.values()) {
        if (!entry.started) {
          await entry.resource.start?.();
          entry.started = true;
        }
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Makes the pending config live and closes the resources it no longer uses. */
  async commit(): Promise<void> {
    const pending = this.#pending;
    if (!pending) return;
    const old = this.#live;
    this.#live = pending;
    this.#pending = null;
    await closeAll([...old].filter(([k]) => !pending.has(k)).map(([, e]) => e.resource));
  }

  /** Drops the pending config, closing what only it had created. */
  async abort(): Promise<void> {
    const pending = this.#pending;
    this.#pending = null;
    if (!pending) return;
    await closeAll([...pending].filter(([k]) => !this.#live.has(k)).map(([, e]) => e.resource));
  }

  /** Closes every live resource (shutdown). */
  async close(): Promise<void> {
    await this.abort();
    const live = [...this.#live.values()].map((e) => e.resource);
    await Promise.allSettled(live.map((r) => r.beforeStop?.()));
    this.#live = new Map();
    await closeAll(live);
  }
}

async function closeAll(resources: Resource[]): Promise<void> {
  await Promise.allSettled(resources.map((r) => r.close()));
}
