/** UDP and TCP listeners for one address and port, answering through a swappable router. */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { serverLabel } from "../plugin/query.ts";
import { answerPacket, type PacketSource } from "./responder.ts";
import { copyBytes } from "../dns/bytes.ts";
import { frame, FrameReader, writeAll } from "../dns/framing.ts";
import type { Resource } from "../plugin/resources.ts";
import { ZoneRouter } from "./router.ts";
import {
  acceptBackoff,
  LogLimiter,
  maxConnectionsFor,
  openFileLimit,
  TCP_IDLE_TIMEOUT_MS,
  TCP_MAX_IN_FLIGHT,
  TCP_MAX_QUEUED_BYTES,
  TCP_QUERY_TIMEOUT_MS,
  TCP_WRITE_TIMEOUT_MS,
} from "./tcp_limits.ts";

const log = logger("etcdns");
/** The largest UDP datagram we read; larger ones are cut and then fail to decode. */
const UDP_READ_SIZE = 65535;

/** The wildcard address we listen on when no `bind` is given: dual-stack where IPv6 exists. */
export const WILDCARD = "::";

/** Serves DNS over UDP and TCP on one address and port. A resource, so reloads can keep it. */
export class DnsListener implements Resource {
  #router = new ZoneRouter();
  #staged: ZoneRouter | null = null;
  #udp: Deno.DatagramConn | null = null;
  #tcp: Deno.TcpListener | null = null;
  #sessions = new Set<TcpSession>();
  #closed = false;
  #loops: Promise<void>[] = [];
  #server: string;
  #acceptWaiter: (() => void) | null = null;

  /**
   * @param maxConnections TCP connections served at once; past it the longest idle one is
   *   closed for a new one. Default: 1000, or half the open-file limit when that is lower.
   */
  constructor(
    readonly hostname: string,
    readonly port: number,
    readonly maxConnections: number = maxConnectionsFor(openFileLimit()),
  ) {
    this.#server = serverLabel(hostname, port);
  }

  /** The address actually bound (useful with port 0). */
  get addr(): Deno.NetAddr | null {
    return (this.#udp?.addr as Deno.NetAddr | undefined) ?? null;
  }

  /** Stages the router of a config being built; `activate` makes it live. */
  stage(router: ZoneRouter): void {
    this.#staged = router;
  }

  /** Makes the staged router live. */
  activate(): void {
    if (this.#staged) this.#router = this.#staged;
    this.#staged = null;
  }

  async start(): Promise<void> {
    this.activate();
    const hostname = this.hostname;
    try {
      this.#udp = Deno.listenDatagram({ transport: "udp", hostname, port: this.port });
      const port = (this.#udp.addr as Deno.NetAddr).port;
      this.#tcp = Deno.listen({ transport: "tcp", hostname, port });
      this.#server = serverLabel(hostname, port);
    } catch (err) {
      this.#udp?.close();
      this.#udp = null;
      throw new Error(
        `cannot listen on ${hostname === WILDCARD ? "" : hostname}:${this.port}: ${
          errorMessage(err)
        }` + (this.port < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""),
      );
    }
    this.#loops.push(this.#serveUdp(this.#udp), this.#serveTcp(this.#tcp));
    await Promise.resolve();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAccept();
    try {
      this.#udp?.close();
    } catch { /* already closed */ }
    try {
      this.#tcp?.close();
    } catch { /* already closed */ }
    for (const session of this.#sessions) session.close();
    await Promise.allSettled(this.#loops);
  }

  async #serveUdp(conn: Deno.DatagramConn): Promise<void> {
    const local = conn.addr as Deno.NetAddr;
    const buffer = new Uint8Array(UDP_READ_SIZE);
    while (!this.#closed) {
      let packet: Uint8Array;
      let remote: Deno.NetAddr;
      try {
        const [data, addr] = await conn.receive(buffer);
        // The buffer is reused by the next receive; the query keeps its own copy (decoded
        // records may be views into it).
        packet = copyBytes(data);
        remote = addr as Deno.NetAddr;
      } catch (err) {
        if (this.#closed) return;
        log.warn(`udp ${local.hostname}:${local.port}: receive failed: ${errorMessage(err)}`);
        continue;
      }
      const reply = answerPacket(
        packet,
        { proto: "udp", remote: clientAddr(remote), local, server: this.#server },
        this.#router,
      );
      if (reply instanceof Promise) reply.then((r) => this.#sendUdp(conn, r, remote));
      else this.#sendUdp(conn, reply, remote);
    }
  }

  /** Sends a reply without waiting: the loop goes back to receiving at once. */
  #sendUdp(conn: Deno.DatagramConn, reply: Uint8Array | null, remote: Deno.NetAddr): void {
    if (reply === null || this.#closed) return;
    conn.send(reply, remote).catch((err) => {
      if (!this.#closed) log.debug(`udp send to ${remote.hostname}: ${errorMessage(err)}`);
    });
  }

  /**
   * Accepts connections. Past the limit it makes room by closing the connection that has waited
   * longest for a query (RFC 7766 6.2.3 lets a server close idle connections under pressure),
   * or, when every connection is busy, closes the new one at once; so idle or trickling clients
   * cannot lock honest ones out, and connections cannot use up the process's descriptors. A
   * failed accept waits an exponential back-off, 5 ms doubling to 1 s (on EMFILE or ENFILE it
   * also closes the longest idle connection), and each distinct error is logged at most once a
   * second with a count of the repeats.
   */
  async #serveTcp(listener: Deno.TcpListener): Promise<void> {
    const backoff = acceptBackoff();
    const limiter = new LogLimiter();
    const warn = (message: string) => {
      const line = limiter.admit(message, Date.now());
      if (line !== null) log.warn(line);
    };
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
        backoff.reset();
      } catch (err) {
        if (this.#closed) return;
        warn(`tcp accept failed: ${errorMessage(err)}`);
        // Out of descriptors: free one from the longest idle connection, for whoever waits.
        if (outOfDescriptors(err)) this.#evict(this.#idlest());
        await this.#pause(backoff.next());
        continue;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      if (this.#sessions.size >= this.maxConnections) {
        const idlest = this.#idlest();
        if (idlest === null) {
          warn(`tcp ${this.#server}: ${this.maxConnections} connections, all busy; refusing more`);
          conn.close();
          continue;
        }
        warn(
          `tcp ${this.#server}: ${this.maxConnections} connections, the limit; ` +
            "closing the longest idle ones for new clients",
        );
        this.#evict(idlest);
      }
      const session = new TcpSession(conn, this.#server, () => this.#router);
      this.#sessions.add(session);
      session.run().finally(() => {
        this.#sessions.delete(session);
        session.close();
      });
    }
  }

  #evict(session: TcpSession | null): void {
    if (session === null) return;
    this.#sessions.delete(session);
    session.close();
  }

  /** The session that has waited longest for a query with nothing in flight, if any. */
  #idlest(): TcpSession | null {
    let idlest: TcpSession | null = null;
    for (const session of this.#sessions) {
      const since = session.waitingSince;
      if (since !== null && (idlest === null || since < idlest.waitingSince!)) idlest = session;
    }
    return idlest;
  }

  /** Waits `ms`, cut short when the listener closes. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#acceptWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#acceptWaiter = done;
    });
  }

  #wakeAccept(): void {
    const wake = this.#acceptWaiter;
    this.#acceptWaiter = null;
    wake?.();
  }
}

/**
 * One TCP connection: reads framed queries, answers them concurrently and writes the replies
 * whole, one after another.
 *
 * Backpressure: at most TCP_MAX_IN_FLIGHT queries may be unanswered or unwritten, and at most
 * TCP_MAX_QUEUED_BYTES of replies queued; past either it stops reading until writes drain, so a
 * client that pipelines without reading fills its own socket buffers, not our heap. A write that
 * makes no progress for TCP_WRITE_TIMEOUT_MS closes the connection.
 */
class TcpSession {
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
    private readonly conn: Deno.TcpConn,
    server: string,
    private readonly router: () => ZoneRouter,
  ) {
    this.#reader = new FrameReader((into) => conn.read(into));
    this.#source = {
      proto: "tcp",
      remote: clientAddr(conn.remoteAddr),
      local: conn.localAddr,
      server,
    };
  }

  /** Serves until the client closes, stalls or idles; then lets pending replies drain. */
  async run(): Promise<void> {
    while (!this.#closed) {
      if (this.#inFlight >= TCP_MAX_IN_FLIGHT || this.#queuedBytes >= TCP_MAX_QUEUED_BYTES) {
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

  #answered(reply: Uint8Array | null): void {
    if (reply === null || this.#closed) {
      this.#inFlight--;
      this.#notify();
      return;
    }
    const framed = frame(reply);
    this.#queue.push(framed);
    this.#queuedBytes += framed.length;
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

/** EMFILE or ENFILE: the process or the system has no descriptor left. */
function outOfDescriptors(err: unknown): boolean {
  return /too many open files|os error 2[34]\b/i.test(errorMessage(err));
}

/** A client's address as users expect to see it: IPv4 clients of a dual-stack socket unmapped. */
function clientAddr(addr: Deno.Addr): Deno.NetAddr {
  const a = addr as Deno.NetAddr;
  if (a.hostname.startsWith("::ffff:") && a.hostname.includes(".")) {
    return { transport: a.transport, hostname: a.hostname.slice(7), port: a.port };
  }
  return a;
}
