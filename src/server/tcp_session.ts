/** One DNS-over-TCP (or DNS-over-TLS) connection: framing, backpressure and deadlines. */
import { answerPacket, type PacketSource } from "./responder.ts";
import { unmapped } from "../net/udp_deno.ts";
import { frame, FrameReader, writeAll } from "../dns/framing.ts";
import type { ZoneRouter } from "./router.ts";
import {
  TCP_IDLE_TIMEOUT_MS,
  TCP_MAX_IN_FLIGHT,
  TCP_MAX_QUEUED_BYTES,
  TCP_MAX_QUEUED_BYTES_TOTAL,
  TCP_QUERY_TIMEOUT_MS,
  TCP_WRITE_TIMEOUT_MS,
} from "./tcp_limits.ts";

/** A stream connection as the session uses it: a `Deno.TcpConn`, or a TLS one (tls_stream.ts). */
export interface StreamConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  read(into: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
  /** Present on TLS connections: resolves when the handshake is done. */
  handshake?(): Promise<unknown>;
}

/** What the accept loop needs of a listener: a `Deno.TcpListener`, or `TlsStreamListener`. */
export interface StreamListener {
  readonly addr: Deno.Addr;
  accept(): Promise<StreamConn>;
  close(): void;
}

/** Bytes of replies waiting over all of this thread's sessions (TCP_MAX_QUEUED_BYTES_TOTAL). */
let queuedTotal = 0;

/** Bytes of replies waiting to be written over all of this thread's TCP sessions. */
export function tcpQueuedBytes(): number {
  return queuedTotal;
}

/**
 * One TCP connection: reads framed queries, answers them concurrently and writes the replies
 * whole, one after another.
 *
 * Backpressure: at most TCP_MAX_IN_FLIGHT queries may be unanswered or unwritten, and at most
 * TCP_MAX_QUEUED_BYTES of replies queued; past either it stops reading until writes drain, so a
 * client that pipelines without reading fills its own socket buffers, not our heap. The same
 * holds over all sessions together (TCP_MAX_QUEUED_BYTES_TOTAL) for sessions with replies
 * waiting. A write that makes no progress for TCP_WRITE_TIMEOUT_MS closes the connection.
 *
 * DNS over TLS (RFC 7858) is the same session over a TLS `StreamConn`: the handshake comes first
 * and must finish within TCP_IDLE_TIMEOUT_MS, and meanwhile the connection counts as idle, so a
 * client that connects and never handshakes is the first one closed for a new client.
 */
export class TcpSession {
  readonly #reader: FrameReader;
  readonly #source: PacketSource;
  /** Queries read whose reply is not yet written (or dropped). */
  #inFlight = 0;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #closed = false;
  #wake: (() => void) | null = null;
  /** Since when it has been waiting for a query with no reply pending; null when busy. */
  waitingSince: number | null = null;

  constructor(
    private readonly conn: StreamConn,
    server: string,
    private readonly router: () => ZoneRouter,
  ) {
    this.#reader = new FrameReader((into) => conn.read(into));
    this.#source = {
      // CoreDNS logs DNS over TLS as tcp too: {proto} is the transport under TLS.
      proto: "tcp",
      remote: clientAddr(conn.remoteAddr),
      local: conn.localAddr,
      server,
    };
  }

  /** Serves until the client closes, stalls or idles; then lets pending replies drain. */
  async run(): Promise<void> {
    if (this.conn.handshake && !await this.#handshake(this.conn.handshake())) return;
    while (!this.#closed) {
      if (
        this.#inFlight >= TCP_MAX_IN_FLIGHT || this.#queuedBytes >= TCP_MAX_QUEUED_BYTES ||
        (this.#queuedBytes > 0 && queuedTotal >= TCP_MAX_QUEUED_BYTES_TOTAL)
      ) {
        await this.#changed();
        continue;
      }
      if (this.#inFlight === 0) this.waitingSince = performance.now();
      const packet = await this.#reader.next(TCP_IDLE_TIMEOUT_MS, TCP_QUERY_TIMEOUT_MS);
      this.waitingSince = null;
      if (packet === null) break;
      this.#inFlight++;
      const reply = answerPacket(packet, this.#source, this.router());
      if (reply instanceof Promise) {
        reply.then((r) => this.#answered(r), () => this.#answered(null));
      } else this.#answered(reply);
    }
    // The client may have half-closed after its last query: still send what is pending.
    while (!this.#closed && this.#inFlight > 0) await this.#changed();
  }

  /** Runs the TLS handshake within the idle timeout; false (and closed) when it fails or stalls. */
  async #handshake(handshake: Promise<unknown>): Promise<boolean> {
    this.waitingSince = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), TCP_IDLE_TIMEOUT_MS);
    });
    try {
      const done = handshake.then(() => true, () => false);
      if (await Promise.race([done, deadline])) return true;
    } finally {
      clearTimeout(timer);
    }
    this.close();
    return false;
  }

  #answered(reply: Uint8Array | null): void {
    if (reply === null || this.#closed) {
      this.#inFlight--;
      this.#notify();
      return;
    }
    if (this.#queuedBytes > 0 && queuedTotal >= 2 * TCP_MAX_QUEUED_BYTES_TOTAL) {
      // Replies pile up across sessions and this one's client is not reading either.
      this.close();
      return;
    }
    const framed = frame(reply);
    this.#queue.push(framed);
    this.#queuedBytes += framed.length;
    queuedTotal += framed.length;
    if (!this.#writing) this.#flush();
  }

  /** Writes queued replies in turn; closes the connection on a failed or stalled write. */
  async #flush(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0 && !this.#closed) {
      const framed = this.#queue.shift()!;
      const ok = await writeAll((b) => this.conn.write(b), framed, TCP_WRITE_TIMEOUT_MS);
      if (this.#closed) break; // #close already dropped the count of what was queued
      this.#queuedBytes -= framed.length;
      queuedTotal -= framed.length;
      this.#inFlight--;
      if (!ok) this.close();
      this.#notify();
    }
    this.#writing = false;
  }

  /** Closes the socket (a pending read or write then fails) and drops what is queued. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    queuedTotal -= this.#queuedBytes;
    this.#queuedBytes = 0;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.#notify();
  }

  /** Resolves at the next change of the in-flight count or the queue. */
  #changed(): Promise<void> {
    return new Promise((resolve) => this.#wake = resolve);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** A client's address as users expect to see it: IPv4 clients of a dual-stack socket unmapped. */
export function clientAddr(addr: Deno.Addr): Deno.NetAddr {
  return unmapped(addr as Deno.NetAddr);
}
