/**
 * The lease a slot claimer holds its slot under, and its keepalive. etcd3's Lease class only
 * notices a loss after 2×TTL and never re-grants, so this drives its own: a keepalive every
 * TTL/3 on one stream; a stream with no answer for 1.5 intervals is replaced; no answer for a
 * whole TTL means not ready (`confirmed()` is false); etcd answering TTL 0 means the lease, and
 * the slot with it, is gone: `onLost` is called and the next `ensure()` grants a new lease.
 */
import type { Etcd3 } from "etcd3";
import type { Logger } from "../../util/log.ts";
import { keepaliveFailures, leaseLosses } from "./metrics.ts";

type Stream = Awaited<ReturnType<Etcd3["leaseClient"]["leaseKeepAlive"]>>;

/** etcd's answer to one keepalive: the lease and its TTL left (0: the lease is gone). */
interface KeepaliveAnswer {
  ID: string;
  TTL: string;
}

/** One keepalive stream for the lease that `lease()` names at the time of sending. */
class LeaseKeepalive {
  #stream: Stream | null = null;
  #closed = false;

  constructor(
    readonly client: Etcd3,
    readonly lease: () => string | null,
    readonly onAnswer: (res: KeepaliveAnswer) => void,
  ) {}

  /** Whether a stream is open. */
  get open(): boolean {
    return this.#stream !== null;
  }

  /** Drops the current stream and opens a new one, which sends a keepalive once open. */
  restart(): void {
    this.end();
    if (this.#closed) return;
    this.client.leaseClient.leaseKeepAlive().then((stream) => {
      if (this.#closed || this.#stream !== null) {
        stream.cancel();
        return;
      }
      this.#stream = stream;
      stream.on("data", (res: KeepaliveAnswer) => this.onAnswer(res));
      stream.on("error", () => {
        if (this.#stream === stream) this.#stream = null;
      });
      stream.on("end", () => {
        if (this.#stream === stream) this.#stream = null;
      });
      this.send();
    }).catch(() => {
      // no connection yet; the next tick tries again
    });
  }

  /** Sends a keepalive for the current lease, if there is one and a stream. */
  send(): void {
    const lease = this.lease();
    if (!lease || !this.#stream) return;
    try {
      this.#stream.write({ ID: lease });
    } catch {
      this.end();
    }
  }

  /** Drops the current stream. */
  end(): void {
    const s = this.#stream;
    this.#stream = null;
    if (s) {
      try {
        s.cancel();
      } catch {
        // already gone
      }
    }
  }

  /** Drops the stream for good. */
  close(): void {
    this.#closed = true;
    this.end();
  }
}

/** What a SlotLease reports to its claimer. */
export interface SlotLeaseOptions {
  client: Etcd3;
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
      const grant = await this.#o.client.leaseClient.leaseGrant({ TTL: this.#o.ttlSeconds });
      this.#id = String(grant.ID);
      this.#ackAt = Date.now();
      this.#keepalive.restart();
    }
    return this.#id;
  }

  /** Forgets the lease (etcd no longer has it); the next `ensure()` grants a new one. */
  forget(): void {
    this.#id = null;
    this.#keepalive.end();
  }

  /** Stops the keepalive and revokes the lease, which deletes its keys at once. */
  async revoke(): Promise<void> {
    clearInterval(this.#ticker);
    this.#keepalive.close();
    const id = this.#id;
    this.#id = null;
    if (id !== null) await this.#o.client.leaseClient.leaseRevoke({ ID: id });
  }

  /** Every TTL/3: send a keepalive; a silent stream is replaced. */
  #tick(): void {
    if (this.#id === null) return;
    const interval = (this.#o.ttlSeconds * 1000) / 3;
    const silentFor = Date.now() - this.#ackAt;
    if (silentFor > interval * 1.5) {
      keepaliveFailures.inc([this.#o.label]);
      // No answer to the last keepalive: the stream may be dead without saying so.
      this.#keepalive.restart();
      if (silentFor > this.#o.ttlSeconds * 1000 && this.#o.holding()) {
        if (this.#silentLogged++ % 10 === 0) {
          this.#o.log.warn(
            `no lease keepalive answer for ${Math.round(silentFor / 1000)} s; not ready ` +
              `until etcd at ${this.#o.endpoints} answers`,
          );
        }
      }
      return;
    }
    if (!this.#keepalive.open) this.#keepalive.restart();
    else this.#keepalive.send();
  }

  #onAnswer(res: KeepaliveAnswer): void {
    if (String(res.ID) !== this.#id) return;
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
