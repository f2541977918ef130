/**
 * The in-memory view of every claimed slot that idetcd answers from. One resilient watch over
 * the pattern's key range keeps it current, so a query never waits for etcd.
 */
import type { EtcdClient } from "../../etcd/client.ts";
import type { EtcdOptions } from "../../etcd/options.ts";
import { type EtcdHandle, etcdPool } from "../../etcd/pool.ts";
import { ResilientWatch } from "../../etcd/watch.ts";
import type { Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { metrics } from "../../metrics/registry.ts";
import { readSlots, type SlotLayout, type SlotRecord } from "./slots.ts";
import { errorMessage } from "../../util/errors.ts";
import { dropState, publishState } from "../../plugin/shared_state.ts";

const badValues = metrics.counter(
  "etcdns_slot_bad_values_total",
  "Slot values in etcd that were ignored because they are not valid JSON or hold a bad address.",
  ["pattern"],
);
const claimedGauge = metrics.gauge(
  "etcdns_slot_claimed",
  "Slots of the pattern currently claimed in etcd, as the watched view sees them.",
  ["pattern"],
);

/** What answering needs from a view: the watched one, or a worker thread's replica of it. */
export interface SlotLookup {
  /** The usable record for a DNS name (lowercased FQDN), if claimed. */
  get(name: string): SlotRecord | undefined;
  /** Every usable record, by slot ID. */
  all(): readonly SlotRecord[];
  /** The etcd revision the view is complete up to. */
  readonly revision: number;
}

/** What a SlotView publishes for the replicas in worker threads: plain data. */
export interface PublishedSlots {
  /** Every usable record, by slot ID. */
  records: readonly SlotRecord[];
  revision: number;
}

/** A watched, in-memory copy of all slots of one pattern. */
export class SlotView implements Resource, SlotLookup {
  /** Usable records by DNS name (lowercased FQDN). */
  #byName = new Map<string, SlotRecord>();
  /** Every record by slot ID, including those with bad values (they still occupy the slot). */
  #byId = new Map<number, SlotRecord>();
  #sorted: SlotRecord[] | null = null;
  #listeners = new Set<() => void>();
  #warned = new Set<string>();
  #etcd: EtcdHandle | null = null;
  #client: EtcdClient | null = null;
  #watch: ResilientWatch | null = null;
  #synced = false;
  /** Settles after the first read, successful or not. */
  #firstSync = Promise.withResolvers<void>();

  constructor(
    readonly etcd: EtcdOptions,
    readonly layout: SlotLayout,
    readonly log: Logger,
    /** Where each change is published for worker threads (see replica.ts). */
    readonly stateKey?: string,
  ) {}

  /** Whether the view has been read from etcd at least once. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The etcd revision the view is complete up to. */
  get revision(): number {
    return this.#watch?.revision ?? 0;
  }

  /** Whether the watch stream is up. */
  get connected(): boolean {
    return this.#watch?.connected ?? false;
  }

  /** The usable record for a DNS name (lowercased FQDN), if claimed. */
  get(name: string): SlotRecord | undefined {
    return this.#byName.get(name);
  }

  /** The record of a slot ID, usable or not. */
  slot(id: number): SlotRecord | undefined {
    return this.#byId.get(id);
  }

  /** Every usable record, by slot ID. */
  all(): readonly SlotRecord[] {
    return (this.#sorted ??= [...this.#byName.values()].sort((a, b) => a.id - b.id));
  }

  /** Calls `listener` after every change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the watch and waits (up to the etcd timeout) for the first read. */
  async start(): Promise<void> {
    this.#etcd = await etcdPool.acquire(this.etcd);
    this.#client = this.#etcd.client;
    const { start, end } = this.layout.range;
    this.#watch = new ResilientWatch({
      client: this.#client,
      key: start,
      rangeEnd: end,
      name: `slots of ${this.layout.pattern.source}`,
      log: this.log,
      onResync: async () => {
        try {
          return await this.#reload();
        } catch (err) {
          // The first read failed (etcd down?): stop holding up the server's start.
          this.#firstSync.resolve();
          throw err;
        }
      },
      onEvents: (events) => {
        for (const e of events) {
          if (e.type === "delete") {
            const id = this.layout.idOfKey(e.key);
            if (id !== null) this.#remove(id);
          } else {
            const r = this.layout.record(e.key, e.value, e.lease, e.modRevision, e.createRevision);
            if (r) this.#put(r);
          }
        }
        this.#changed();
      },
    });
    this.#watch.start();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#firstSync.promise,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.etcd.timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!this.#synced) {
      this.log.warn(
        `cannot read the slots from etcd at ${this.etcd.endpoints.join(", ")} yet; ` +
          `answering once it is reachable (check that etcd runs and the endpoint)`,
      );
    }
  }

  /** Stops the watch and releases the shared client. */
  async close(): Promise<void> {
    if (this.stateKey !== undefined) dropState(this.stateKey);
    await this.#watch?.close();
    this.#etcd?.release();
    this.#etcd = null;
    this.#client = null;
    this.#listeners.clear();
  }

  async #reload(): Promise<number> {
    const { records, revision } = await readSlots(this.#client!, this.layout);
    this.#byName.clear();
    this.#byId.clear();
    for (const r of records) this.#put(r);
    this.#synced = true;
    this.#firstSync.resolve();
    this.#changed();
    return revision;
  }

  #put(r: SlotRecord): void {
    const old = this.#byId.get(r.id);
    if (old?.value) this.#byName.delete(old.name);
    this.#byId.set(r.id, r);
    if (r.value) {
      this.#byName.set(r.name, r);
    } else {
      const tag = `${r.key}@${r.modRevision}`;
      if (!this.#warned.has(tag)) {
        this.#warned.add(tag);
        badValues.inc([this.layout.pattern.source]);
        this.log.warn(`ignoring slot ${r.id} (key '${r.key}'): ${r.error}`);
      }
    }
  }

  #remove(id: number): void {
    const old = this.#byId.get(id);
    if (!old) return;
    this.#byId.delete(id);
    if (old.value) this.#byName.delete(old.name);
  }

  #changed(): void {
    this.#sorted = null;
    claimedGauge.set([this.layout.pattern.source], this.#byName.size);
    if (this.stateKey !== undefined) {
      publishState(this.stateKey, { records: this.all(), revision: this.revision });
    }
    for (const l of this.#listeners) {
      try {
        l();
      } catch (err) {
        this.log.error(`slot view listener failed: ${errorMessage(err)}`);
      }
    }
  }
}
