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
 * - **Lease.** Our own keepalive runs at TTL/3 on one stream (etcd3's Lease class only notices
 *   a loss after 2×TTL and never re-grants). No acknowledgement for a whole TTL → not ready;
 *   etcd answering TTL 0 → the slot is gone: grant a new lease and re-claim, preferring the
 *   same ID if it is still free. etcd renews every lease when it restarts, so after an outage
 *   our old lease usually lives on and nothing needs re-claiming.
 * - **Full.** `on_full fail` makes `start()` reject with the limit in the message (the server
 *   exits non-zero); `on_full wait` returns at once, not ready, and claims the first slot
 *   that frees.
 * - **Release.** `close()` revokes the lease, which deletes the slot at once.
 */
import { Buffer } from "node:buffer";
import type { Etcd3 } from "etcd3";
import { connectEtcd, explainEtcdError } from "../../etcd/client.ts";
import type { EtcdOptions } from "../../etcd/options.ts";
import { errorMessage } from "../../util/errors.ts";
import { type Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { metrics } from "../../metrics/registry.ts";
import { encodeSlotValue, readSlots, type SlotLayout, type SlotValue } from "./slots.ts";
import type { SlotView } from "./view.ts";

/** What to do when every slot is taken. */
export type OnFull = "fail" | "wait";

/** Published addresses; either may be absent. */
export interface Addresses {
  ipv4?: string;
  ipv6?: string;
}

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

const attempts = metrics.counter(
  "etcdns_slot_claim_attempts_total",
  "Slot claim transactions by result: won, lost (another node was faster), full, error.",
  ["pattern", "result"],
);
const heldGauge = metrics.gauge(
  "etcdns_slot_held",
  "The slot ID this node holds (0 while it holds none).",
  ["pattern"],
);
const leaseLosses = metrics.counter(
  "etcdns_slot_lease_lost_total",
  "Times the slot's lease was lost (expired in etcd) and the slot had to be claimed again.",
  ["pattern"],
);
const keepaliveFailures = metrics.counter(
  "etcdns_slot_keepalive_failures_total",
  "Lease keepalives that got no answer (etcd unreachable or slow).",
  ["pattern"],
);

/** Detects the published addresses: the first non-loopback interface's IPv4 and IPv6. */
export function detectAddresses(): Addresses {
  let interfaces: Deno.NetworkInterfaceInfo[];
  try {
    interfaces = Deno.networkInterfaces();
  } catch {
    return {};
  }
  const usable = (i: Deno.NetworkInterfaceInfo) =>
    i.family === "IPv4"
      ? !i.address.startsWith("127.")
      : i.address !== "::1" && !/^fe[89ab]/i.test(i.address);
  const first = interfaces.find((i) => i.name !== "lo" && usable(i));
  if (!first) return {};
  const mine = interfaces.filter((i) => i.name === first.name && usable(i));
  return {
    ipv4: mine.find((i) => i.family === "IPv4")?.address,
    ipv6: mine.find((i) => i.family === "IPv6")?.address,
  };
}

/** The default node id: hostname, published address and DNS port, unique per live instance. */
export function defaultNodeId(addresses: Addresses, dnsPort: number): string {
  let host = "localhost";
  try {
    host = Deno.hostname();
  } catch {
    // no --allow-sys; the address and port still tell instances apart
  }
  return `${host}/${addresses.ipv4 ?? addresses.ipv6 ?? "-"}/${dnsPort}`;
}

type Outcome = "claimed" | "full" | "retry";

/** Holds one slot for this node; see the module comment. */
export class SlotClaimer implements Resource {
  readonly #c: ClaimConfig;
  readonly #view: SlotView;
  readonly #log: Logger;
  readonly #label: string;
  #client: Etcd3 | null = null;
  #nodeId = "";
  #addresses: Addresses = {};

  #leaseId: string | null = null;
  #leaseAckAt = 0;
  #keepalive: Awaited<ReturnType<Etcd3["leaseClient"]["leaseKeepAlive"]>> | null = null;
  #ticker: ReturnType<typeof setInterval> | undefined;

  #held: HeldSlot | null = null;
  #preferredId: number | null = null;
  #avoidSticky = false;
  #standDown = false;
  #needClaim = true;
  #closed = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
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
    return this.#held !== null && this.#leaseId !== null &&
      Date.now() - this.#leaseAckAt <= this.#c.leaseSeconds * 1000;
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
    this.#client = await connectEtcd(this.#c.etcd);
    this.#unsubscribe = this.#view.onChange(() => this.#checkView());
    const first = Promise.withResolvers<void>();
    this.#loop = this.#run(first);
    this.#ticker = setInterval(() => this.#tick(), (this.#c.leaseSeconds * 1000) / 3);
    await first.promise;
  }

  /** Releases the slot (revokes the lease) and stops. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ticker);
    this.#unsubscribe?.();
    this.#wake?.();
    await this.#loop;
    this.#endKeepalive();
    const lease = this.#leaseId;
    const held = this.#held;
    this.#leaseId = null;
    this.#held = null;
    heldGauge.set([this.#label], 0);
    if (lease && this.#client) {
      try {
        await this.#client.leaseClient.leaseRevoke({ ID: lease });
        if (held && !this.#standDown) this.#log.info(`released slot ${held.id} (${held.name})`);
      } catch (err) {
        this.#log.warn(
          `could not release the slot (it frees itself when the lease expires): ${
            explainEtcdError(err, this.#c.etcd)
          }`,
        );
      }
    }
    this.#client?.close();
    this.#client = null;
  }

  /** The claim loop: claims when needed, then sleeps until something changes. */
  async #run(first: PromiseWithResolvers<void>): Promise<void> {
    let starting = true;
    let backoff = 100;
    while (!this.#closed) {
      if (this.#needClaim && !this.#standDown) {
        let outcome: Outcome | "error";
        try {
          outcome = await this.#claimOnce();
        } catch (err) {
          if (/lease not found/i.test(errorMessage(err))) {
            // etcd forgot our lease (it expired while we could not reach it): get a new one.
            this.#leaseId = null;
            this.#endKeepalive();
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
          backoff = 100;
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
        await this.#sleep(backoff);
        backoff = Math.min(3000, backoff * 2);
        continue;
      }
      await this.#sleep(60_000);
    }
    if (starting) first.resolve();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #kick(): void {
    this.#wake?.();
  }

  /** One claim attempt: sticky first, then the preferred ID, then the lowest free one. */
  async #claimOnce(): Promise<Outcome> {
    const client = this.#client!;
    if (this.#leaseId === null) {
      const grant = await client.leaseClient.leaseGrant({ TTL: this.#c.leaseSeconds });
      this.#leaseId = String(grant.ID);
      this.#leaseAckAt = Date.now();
      this.#restartKeepalive();
    }
    const lease = this.#leaseId;
    const { records } = await readSlots(client, this.#c.layout);
    const taken = new Map(records.map((r) => [r.id, r]));

    if (!this.#avoidSticky) {
      const mine = records.find((r) => r.value?.node === this.#nodeId && r.id <= this.#c.limit);
      if (mine) {
        if (mine.lease === lease) {
          return this.#won(mine.id, mine.modRevision, "holds again");
        }
        const res = await client.kv.txn({
          compare: [{
            key: Buffer.from(mine.key),
            target: "Mod",
            result: "Equal",
            mod_revision: String(mine.modRevision),
          }],
          success: [{ request_put: { key: Buffer.from(mine.key), value: this.#encode(), lease } }],
          failure: [],
        });
        if (res.succeeded) {
          return this.#won(mine.id, Number(res.header.revision), "took back its own");
        }
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
      const key = Buffer.from(this.#c.layout.keyOf(id));
      const res = await client.kv.txn({
        compare: [{ key, target: "Create", result: "Equal", create_revision: "0" }],
        success: [{ request_put: { key, value, lease } }],
        failure: [],
      });
      if (res.succeeded) return this.#won(id, Number(res.header.revision), "claimed");
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
    if (r && r.lease === this.#leaseId) return;
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

  // ---- lease keepalive ----

  #restartKeepalive(): void {
    this.#endKeepalive();
    const client = this.#client;
    if (!client || this.#closed) return;
    const opening = client.leaseClient.leaseKeepAlive();
    opening.then((stream) => {
      if (this.#closed || this.#keepalive !== null) {
        stream.cancel();
        return;
      }
      this.#keepalive = stream;
      stream.on("data", (res: { ID: string; TTL: string }) => this.#onKeepalive(res));
      stream.on("error", () => {
        if (this.#keepalive === stream) this.#keepalive = null;
      });
      stream.on("end", () => {
        if (this.#keepalive === stream) this.#keepalive = null;
      });
      this.#send();
    }).catch(() => {
      // no connection yet; the next tick tries again
    });
  }

  #endKeepalive(): void {
    const s = this.#keepalive;
    this.#keepalive = null;
    if (s) {
      try {
        s.cancel();
      } catch {
        // already gone
      }
    }
  }

  #send(): void {
    if (!this.#leaseId || !this.#keepalive) return;
    try {
      this.#keepalive.write({ ID: this.#leaseId });
    } catch {
      this.#endKeepalive();
    }
  }

  /** Every TTL/3: send a keepalive; a silent stream is replaced. */
  #tick(): void {
    if (this.#closed || this.#leaseId === null) return;
    const interval = (this.#c.leaseSeconds * 1000) / 3;
    const silentFor = Date.now() - this.#leaseAckAt;
    if (silentFor > interval * 1.5) {
      keepaliveFailures.inc([this.#label]);
      // No answer to the last keepalive: the stream may be dead without saying so.
      this.#restartKeepalive();
      if (silentFor > this.#c.leaseSeconds * 1000 && this.#held) {
        if (this.#errorLogged++ % 10 === 0) {
          this.#log.warn(
            `no lease keepalive answer for ${Math.round(silentFor / 1000)} s; not ready ` +
              `until etcd at ${this.#c.etcd.endpoints.join(", ")} answers`,
          );
        }
      }
      return;
    }
    if (this.#keepalive === null) this.#restartKeepalive();
    else this.#send();
  }

  #onKeepalive(res: { ID: string; TTL: string }): void {
    if (String(res.ID) !== this.#leaseId) return;
    if (Number(res.TTL) > 0) {
      if (Date.now() - this.#leaseAckAt > this.#c.leaseSeconds * 1000 && this.#held) {
        this.#log.info(`etcd is back and the lease of slot ${this.#held.id} is still alive`);
      }
      this.#leaseAckAt = Date.now();
      this.#errorLogged = 0;
      return;
    }
    // TTL 0: etcd no longer knows the lease; the slot went with it.
    const held = this.#held;
    leaseLosses.inc([this.#label]);
    this.#log.warn(
      `lease lost${held ? ` for slot ${held.id} (${held.name})` : ""}; not ready, claiming again`,
    );
    this.#leaseId = null;
    this.#endKeepalive();
    if (held) this.#preferredId = held.id;
    this.#held = null;
    heldGauge.set([this.#label], 0);
    this.#needClaim = true;
    this.#kick();
  }
}

function safeHostname(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined;
  }
}
