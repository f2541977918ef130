/**
 * The lease a slot claimer holds its slot under, and its keepalive: a keepalive every TTL/3;
 * no answer for 1.5 intervals counts as a keepalive failure; no answer for a whole TTL means
 * not ready (`confirmed()` is false); etcd answering TTL 0 means the lease, and the slot with
 * it, is gone: `onLost` is called and the next `ensure()` grants a new lease.
 */
import type { EtcdClient } from "../../etcd/client.ts";
import type { LeaseResponse } from "../../etcd/wire.ts";
import type { Logger } from "../../util/log.ts";
import { keepaliveFailures, leaseLosses } from "./metrics.ts";

/** Keepalives for the lease that `lease()` names at the time of sending, one at a time. */
class LeaseKeepalive {
  #inFlight = false;
  #closed = false;

  constructor(
    readonly client: EtcdClient,
    readonly lease: () => string | null,
    readonly onAnswer: (res: LeaseResponse) => void,
  ) {}

  /**
   * Sends a keepalive for the current lease, unless one is still on its way (each ends
   * within the etcd timeout). A failure is not reported: the missing answer is the signal.
   */
  send(): void {
    const lease = this.lease();
    if (this.#closed || this.#inFlight || lease === null) return;
    this.#inFlight = true;
    this.client.leaseKeepAlive(lease).then(
      (res) => {
        if (!this.#closed) this.onAnswer(res);
      },
      () => {},
    ).finally(() => this.#inFlight = false);
  }

  /** Sends no more keepalives. */
  close(): void {
    this.#closed = true;
  }
}

/** What a SlotLease reports to its claimer. */
export interface SlotLeaseOptions {
  client: EtcdClient;
  ttlSeconds: number;
  /** The pattern, as the metrics label it. */
  label: string;
  log: Logger;
  /** The etcd endpoints, for log lines. */
  endpoints: string;
  /** The slot held under the lease, if any, for log lines. */
  holding(): { id: number; name: string } | null;
  /** etcd no longer knows the lease (TTL 0): the slot went with it. */
  onLost(): void;
}

/** The claimer's lease; see the module comment. */
export class SlotLease {
  readonly #o: SlotLeaseOptions;
  readonly #keepalive: LeaseKeepalive;
  #id: string | null = null;
  #ackAt = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #silentLogged = 0;

  constructor(options: SlotLeaseOptions) {
    this.#o = options;
    this.#keepalive = new LeaseKeepalive(options.client, () => this.#id, (r) => this.#onAnswer(r));
    this.#ticker = setInterval(() => this.#tick(), (options.ttlSeconds * 1000) / 3);
  }

  /** The lease ID, or null while there is none. */
  get id(): string | null {
    return this.#id;
  }

  /** Whether etcd confirmed the lease within the last TTL. */
  confirmed(): boolean {
    return this.#id !== null && Date.now() - this.#ackAt <= this.#o.ttlSeconds * 1000;
  }

  /** The lease ID, granting a new lease first when there is none. */
  async ensure(): Promise<string> {
    if (this.#id === null) {
      const grant = await this.#o.client.leaseGrant(this.#o.ttlSeconds);
      this.#id = grant.ID;
      this.#ackAt = Date.now();
    }
    return this.#id;
  }

  /** Forgets the lease (etcd no longer has it); the next `ensure()` grants a new one. */
  forget(): void {
    this.#id = null;
  }

  /** Stops the keepalive and revokes the lease, which deletes its keys at once. */
  async revoke(): Promise<void> {
    clearInterval(this.#ticker);
    this.#keepalive.close();
    const id = this.#id;
    this.#id = null;
    if (id !== null) await this.#o.client.leaseRevoke(id);
  }

  /** Every TTL/3: send a keepalive, and say when etcd has not answered for a while. */
  #tick(): void {
    if (this.#id === null) return;
    const interval = (this.#o.ttlSeconds * 1000) / 3;
    const silentFor = Date.now() - this.#ackAt;
    if (silentFor > interval * 1.5) {
      keepaliveFailures.inc([this.#o.label]);
      if (silentFor > this.#o.ttlSeconds * 1000 && this.#o.holding()) {
        if (this.#silentLogged++ % 10 === 0) {
          this.#o.log.warn(
            `no lease keepalive answer for ${Math.round(silentFor / 1000)} s; not ready ` +
              `until etcd at ${this.#o.endpoints} answers`,
          );
        }
      }
    }
    this.#keepalive.send();
  }

  #onAnswer(res: LeaseResponse): void {
    if (res.ID !== this.#id) return;
    const held = this.#o.holding();
    if (Number(res.TTL) > 0) {
      if (Date.now() - this.#ackAt > this.#o.ttlSeconds * 1000 && held) {
        this.#o.log.info(`etcd is back and the lease of slot ${held.id} is still alive`);
      }
      this.#ackAt = Date.now();
      this.#silentLogged = 0;
      return;
    }
    leaseLosses.inc([this.#o.label]);
    this.#o.log.warn(
      `lease lost${held ? ` for slot ${held.id} (${held.name})` : ""}; not ready, claiming again`,
    );
    this.forget();
    this.#o.onLost();
  }
}
