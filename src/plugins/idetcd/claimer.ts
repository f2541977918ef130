/**
 * SlotClaimer: holds one numbered slot of a pattern in etcd for this node.
 *
 * - **Race-free.** A free slot is taken with one transaction: `create_revision(key) == 0` →
 *   put the value under our lease. Two nodes can never both win a slot; a loser moves on to
 *   the next free one and, when none is left, re-reads.
 * - **Sticky.** A slot whose value carries exactly our node id is taken back first (a
 *   transaction on its mod revision that re-attaches it to our new lease), so a restart within
 *   the lease TTL keeps the name, even after a SIGKILL.
 * - **Twins.** Each process writes a random `instance`. If another live process with our node
 *   id takes our slot, we log it and claim a different slot instead of fighting over it; if the
 *   taker is this very process (a reload that changed the block), we simply stand down.
 * - **Lease.** lease.ts keeps the lease alive. No acknowledgement for a whole TTL → not ready;
 *   etcd answering TTL 0 → the slot is gone: grant a new lease and re-claim, preferring the
 *   same ID if it is still free. etcd renews every lease when it restarts, so after an outage
 *   our old lease usually lives on and nothing needs re-claiming.
 * - **Full.** `on_full fail` makes `start()` reject with the limit in the message (the server
 *   exits non-zero); `on_full wait` returns at once, not ready, and claims the first slot
 *   that frees.
 * - **Release.** `close()` revokes the lease, which deletes the slot at once.
 */
import { Buffer } from "node:buffer";
import { type EtcdClient, explainEtcdError } from "../../etcd/client.ts";
import type { EtcdOptions } from "../../etcd/options.ts";
import { type EtcdHandle, etcdPool } from "../../etcd/pool.ts";
import { Backoff, sleep } from "../../util/backoff.ts";
import { errorMessage } from "../../util/errors.ts";
import { type Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { attempts, heldGauge } from "./metrics.ts";
import {
  encodeSlotValue,
  readSlots,
  reattachSlot,
  type SlotLayout,
  type SlotValue,
  takeFreeSlot,
} from "./slots.ts";
import type { SlotView } from "./view.ts";
import { SlotLease } from "./lease.ts";
import { type Addresses, defaultNodeId, detectAddresses, safeHostname } from "./node.ts";

/** What to do when every slot is taken. */
export type OnFull = "fail" | "wait";

/** Everything a claimer needs to know. */
export interface ClaimConfig {
  etcd: EtcdOptions;
  layout: SlotLayout;
  limit: number;
  leaseSeconds: number;
  /** Fixed addresses, or null to detect them from the first non-loopback interface. */
  address: Addresses | null;
  /** Fixed node id, or undefined for hostname/address/port. */
  nodeId?: string;
  onFull: OnFull;
  /** The DNS port this server answers on (published as `port`, part of the default node id). */
  dnsPort: number;
}

/** The slot this node holds. */
export interface HeldSlot {
  id: number;
  key: string;
  name: string;
  /** The revision of our claim; the view must reach it before judging the slot. */
  revision: number;
}

/** The error `start()` rejects with under `on_full fail`. */
export class SlotsFullError extends Error {}

/** Random per process, so a node can tell its own handover from a live twin. */
const PROCESS_INSTANCE = crypto.randomUUID();

type Outcome = "claimed" | "full" | "retry";

/** Holds one slot for this node; see the module comment. */
export class SlotClaimer implements Resource {
  readonly #c: ClaimConfig;
  readonly #view: SlotView;
  readonly #log: Logger;
  readonly #label: string;
  #etcd: EtcdHandle | null = null;
  #client: EtcdClient | null = null;
  #nodeId = "";
  #addresses: Addresses = {};

  #lease: SlotLease | null = null;

  #held: HeldSlot | null = null;
  #preferredId: number | null = null;
  #avoidSticky = false;
  #standDown = false;
  #needClaim = true;
  #closed = false;
  #loop: Promise<void> | null = null;
  /** Aborted to cut the claim loop's current wait short; replaced after each wake. */
  #wakeup = new AbortController();
  #unsubscribe: (() => void) | null = null;
  #fullLogged = false;
  #errorLogged = 0;

  constructor(config: ClaimConfig, view: SlotView, log: Logger) {
    this.#c = config;
    this.#view = view;
    this.#log = log;
    this.#label = config.layout.pattern.source;
  }

  /** The slot this node holds, or null. */
  get held(): HeldSlot | null {
    return this.#held;
  }

  /** This node's id as written into its slot. */
  get nodeId(): string {
    return this.#nodeId;
  }

  /** The addresses this node publishes. */
  get addresses(): Addresses {
    return this.#addresses;
  }

  /** Ready: a slot is held and its lease was confirmed within the last TTL. */
  ready(): boolean {
    return this.#held !== null && this.#lease !== null && this.#lease.confirmed();
  }

  /**
   * Claims a slot. Resolves once one is held, or at once under `on_full wait` when all are
   * taken, or after the first failed attempt when etcd is unreachable (it keeps trying in the
   * background). Rejects with SlotsFullError under `on_full fail`.
   */
  async start(): Promise<void> {
    this.#addresses = this.#c.address ?? detectAddresses();
    if (!this.#addresses.ipv4 && !this.#addresses.ipv6) {
      this.#log.warn("found no non-loopback address to publish; set 'address' in the idetcd block");
    }
    this.#nodeId = this.#c.nodeId ?? defaultNodeId(this.#addresses, this.#c.dnsPort);
    this.#etcd = await etcdPool.acquire(this.#c.etcd);
    this.#client = this.#etcd.client;
    this.#lease = new SlotLease({
      client: this.#client,
      ttlSeconds: this.#c.leaseSeconds,
      label: this.#label,
      log: this.#log,
      endpoints: this.#c.etcd.endpoints.join(", "),
      holding: () => this.#held,
      onLost: () => this.#leaseLost(),
    });
    this.#unsubscribe = this.#view.onChange(() => this.#checkView());
    const first = Promise.withResolvers<void>();
    this.#loop = this.#run(first);
    await first.promise;
  }

  /** Releases the slot (revokes the lease) and stops. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#wakeup.abort();
    await this.#loop;
    const lease = this.#lease;
    const held = this.#held;
    this.#held = null;
    heldGauge.set([this.#label], 0);
    if (lease) {
      try {
        await lease.revoke();
        if (held && !this.#standDown) this.#log.info(`released slot ${held.id} (${held.name})`);
      } catch (err) {
        this.#log.warn(
          `could not release the slot (it frees itself when the lease expires): ${
            explainEtcdError(err, this.#c.etcd)
          }`,
        );
      }
    }
    this.#etcd?.release();
    this.#etcd = null;
    this.#client = null;
  }

  /** The claim loop: claims when needed, then sleeps until something changes. */
  async #run(first: PromiseWithResolvers<void>): Promise<void> {
    let starting = true;
    const backoff = new Backoff({ minMs: 100, maxMs: 3000 });
    while (!this.#closed) {
      if (this.#needClaim && !this.#standDown) {
        let outcome: Outcome | "error";
        try {
          outcome = await this.#claimOnce();
        } catch (err) {
          if (/lease not found/i.test(errorMessage(err))) {
            // etcd forgot our lease (it expired while we could not reach it): get a new one.
            this.#lease?.forget();
          }
          outcome = "error";
          attempts.inc([this.#label, "error"]);
          // Log the first failure and then every tenth, so an outage does not flood the log.
          if (this.#errorLogged++ % 10 === 0) {
            this.#log.error(`cannot claim a slot: ${explainEtcdError(err, this.#c.etcd)}`);
          }
        }
        if (outcome === "claimed") {
          this.#needClaim = false;
          this.#fullLogged = false;
          this.#errorLogged = 0;
          backoff.reset();
          if (starting) first.resolve();
          starting = false;
          continue;
        }
        if (outcome === "retry") continue;
        if (outcome === "full") {
          const message = `all ${this.#c.limit} slots of pattern '${this.#label}' are taken ` +
            `(limit ${this.#c.limit})`;
          if (starting && this.#c.onFull === "fail") {
            attempts.inc([this.#label, "full"]);
            first.reject(
              new SlotsFullError(
                `plugin/idetcd: ${message}; raise 'limit', free a slot with ` +
                  `'etcdns slots release NAME', or set 'on_full wait'`,
              ),
            );
            return;
          }
          if (!this.#fullLogged) {
            this.#fullLogged = true;
            this.#log.warn(`${message}; waiting for a slot to free`);
          }
          if (starting) first.resolve();
          starting = false;
          // Wait for the view to show a change; re-check at least every lease TTL.
          await this.#sleep(this.#c.leaseSeconds * 1000);
          continue;
        }
        if (starting) first.resolve();
        starting = false;
        await this.#sleep(backoff.next());
        continue;
      }
      await this.#sleep(60_000);
    }
    if (starting) first.resolve();
  }

  /** Waits `ms`, or less when `#kick()` or `close()` wakes the loop. */
  async #sleep(ms: number): Promise<void> {
    if (this.#closed) return;
    await sleep(ms, this.#wakeup.signal);
    if (this.#wakeup.signal.aborted) this.#wakeup = new AbortController();
  }

  #kick(): void {
    this.#wakeup.abort();
  }

  /** One claim attempt: sticky first, then the preferred ID, then the lowest free one. */
  async #claimOnce(): Promise<Outcome> {
    const client = this.#client!;
    const lease = await this.#lease!.ensure();
    const { records } = await readSlots(client, this.#c.layout);
    const taken = new Map(records.map((r) => [r.id, r]));

    if (!this.#avoidSticky) {
      const mine = records.find((r) => r.value?.node === this.#nodeId && r.id <= this.#c.limit);
      if (mine) {
        if (mine.lease === lease) {
          return this.#won(mine.id, mine.modRevision, "holds again");
        }
        const revision = await reattachSlot(client, mine, this.#encode(), lease);
        if (revision !== null) return this.#won(mine.id, revision, "took back its own");
        attempts.inc([this.#label, "lost"]);
        return "retry";
      }
    }

    const candidates: number[] = [];
    const preferred = this.#preferredId;
    if (preferred !== null && preferred <= this.#c.limit && !taken.has(preferred)) {
      candidates.push(preferred);
    }
    for (let id = 1; id <= this.#c.limit; id++) {
      if (!taken.has(id) && id !== preferred) candidates.push(id);
    }
    if (candidates.length === 0) return "full";
    const value = this.#encode();
    for (const id of candidates) {
      if (this.#closed) return "retry";
      const revision = await takeFreeSlot(client, this.#c.layout.keyOf(id), value, lease);
      if (revision !== null) return this.#won(id, revision, "claimed");
      attempts.inc([this.#label, "lost"]);
    }
    return "retry";
  }

  #won(id: number, revision: number, how: string): Outcome {
    const name = this.#c.layout.nameOf(id);
    this.#held = { id, key: this.#c.layout.keyOf(id), name, revision };
    this.#preferredId = id;
    attempts.inc([this.#label, "won"]);
    heldGauge.set([this.#label], id);
    const addrs = [this.#addresses.ipv4, this.#addresses.ipv6].filter(Boolean).join(", ");
    this.#log.info(`${how} slot ${id}: ${name} -> ${addrs || "no address"} (node ${this.#nodeId})`);
    return "claimed";
  }

  #encode(): Buffer {
    const v: SlotValue = {
      ipv4: this.#addresses.ipv4,
      ipv6: this.#addresses.ipv6,
      port: String(this.#c.dnsPort),
      node: this.#nodeId,
      hostname: safeHostname(),
      claimed_at: new Date().toISOString(),
      instance: PROCESS_INSTANCE,
    };
    return Buffer.from(encodeSlotValue(v));
  }

  /** Reacts to the watched view: our slot deleted, re-leased or overwritten by someone else. */
  #checkView(): void {
    const held = this.#held;
    if (!held || this.#closed || this.#standDown) {
      if (this.#needClaim) this.#kick();
      return;
    }
    if (!this.#view.synced || this.#view.revision < held.revision) return;
    const r = this.#view.slot(held.id);
    if (r && r.lease === this.#lease?.id) return;
    this.#held = null;
    heldGauge.set([this.#label], 0);
    if (!r) {
      this.#log.warn(`slot ${held.id} (${held.name}) was deleted in etcd; claiming again`);
      this.#preferredId = held.id;
    } else if (r.value?.node === this.#nodeId && r.value.instance === PROCESS_INSTANCE) {
      // A newer config of this same process took the slot over (reload); it is theirs now.
      this.#standDown = true;
      this.#log.info(`slot ${held.id} (${held.name}) handed over to the reloaded configuration`);
      return;
    } else if (r.value?.node === this.#nodeId) {
      this.#log.error(
        `another live instance with node id '${this.#nodeId}' took slot ${held.id} ` +
          `(${held.name}); claiming a different slot. Give each instance its own 'node_id'.`,
      );
      this.#avoidSticky = true;
      this.#preferredId = null;
    } else {
      this.#log.warn(
        `slot ${held.id} (${held.name}) was overwritten in etcd by node '${
          r.value?.node ?? "unknown"
        }'; claiming another slot`,
      );
      this.#preferredId = null;
    }
    this.#needClaim = true;
    this.#kick();
  }

  /** The lease is gone in etcd, and the slot with it: claim again, the same ID if free. */
  #leaseLost(): void {
    const held = this.#held;
    if (held) this.#preferredId = held.id;
    this.#held = null;
    heldGauge.set([this.#label], 0);
    this.#needClaim = true;
    this.#kick();
  }
}
