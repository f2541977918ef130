/**
 * UDP and TCP listeners for one address and port, answering through a swappable router; or,
 * for a `tls://` block, one DNS-over-TLS listener (RFC 7858) that shares the TCP accept loop and
 * per-connection code.
 */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { metrics } from "../metrics/registry.ts";
import { serverLabel } from "../plugin/query.ts";
import type { TlsCertificate } from "../plugin/plugin.ts";
import { answerPacket } from "./responder.ts";
import { copyBytes } from "../dns/bytes.ts";
import {
  DEFAULT_COALESCE_US,
  openUdpSocket,
  type UdpPath,
  type UdpSocket,
} from "../net/udp_listen.ts";
import type { Resource } from "../plugin/resources.ts";
import type { ThreadLoads } from "../net/thread_loads.ts";
import type { SpreadMode, UdpSpread } from "../net/udp_spread.ts";
import { ZoneRouter } from "./router.ts";
import { type StreamConn, type StreamListener, TcpSession } from "./tcp_session.ts";
import { acceptBackoff, LogLimiter, maxConnectionsFor, openFileLimit } from "./tcp_limits.ts";

const log = logger("etcdns");

/** UDP replies the kernel would not take, per server (exposed when prometheus is configured). */
const repliesDropped = metrics.counter(
  "etcdns_udp_replies_dropped_total",
  "UDP replies that could not be sent: the socket's send buffer was full or the client unreachable.",
  ["server"],
);

/** The wildcard address we listen on when no `bind` is given: dual-stack where IPv6 exists. */
export const WILDCARD = "::";

/** How a DnsListener serves UDP. */
export interface DnsListenerOptions {
  /** Serve UDP only, no TCP (one of several workers sharing the port; TCP is served once). */
  udpOnly?: boolean;
  /** SO_REUSEPORT on the UDP socket, so that each worker's listener binds the same port. */
  reusePort?: boolean;
  /** The UDP socket implementation (default "auto": native where available; see udp_listen.ts). */
  udpPath?: UdpPath;
}

/** How a config tunes its listeners' UDP sockets (the `workers` plugin); applied on activate. */
export interface UdpTuning {
  /** The coalescing window in microseconds, 0 for none (see UdpSocketOptions.coalesceUs). */
  coalesceUs: number;
  /** How the threads' sockets share datagrams (see src/net/udp_spread.ts). */
  spread: SpreadMode;
  /** The threads serving UDP, one socket each on a shared port: set by the server. */
  threads: number;
  /** Called when a thread's load calls for spreading (the server starts waiting threads). */
  onSpread?: () => void;
  /** Where the threads share their loads, and this thread's index (see UdpSpread). */
  loads?: ThreadLoads;
  thread?: number;
}

/**
 * Serves DNS over UDP and TCP on one address and port (or UDP only), or DNS over TLS when given
 * a certificate. A resource, so reloads can keep it.
 */
export class DnsListener implements Resource {
  #router = new ZoneRouter();
  #staged: ZoneRouter | null = null;
  #tuning: UdpTuning = { coalesceUs: DEFAULT_COALESCE_US, spread: "auto", threads: 1 };
  #stagedTuning: UdpTuning | null = null;
  #udp: UdpSocket | null = null;
  #tcp: StreamListener | null = null;
  #sessions = new Set<TcpSession>();
  #closed = false;
  #loops: Promise<void>[] = [];
  #server: string;
  #acceptWaiter: (() => void) | null = null;

  /**
   * @param maxConnections TCP connections served at once; past it the longest idle one is
   *   closed for a new one. Default: 1000, or half the open-file limit when that is lower.
   * @param tls the certificate and key (PEM) of a DNS-over-TLS listener: TCP with TLS, no UDP.
   * @param options UDP-only mode, SO_REUSEPORT and the UDP implementation (not with `tls`).
   */
  constructor(
    readonly hostname: string,
    readonly port: number,
    readonly maxConnections: number = maxConnectionsFor(openFileLimit()),
    readonly tls: TlsCertificate | null = null,
    readonly options: DnsListenerOptions = {},
  ) {
    this.#server = this.#label(port);
  }

  /** The address actually bound (useful with port 0). */
  get addr(): Deno.NetAddr | null {
    return this.#udp?.addr ?? (this.#tcp?.addr as Deno.NetAddr | undefined) ?? null;
  }

  /** Whether UDP is served by the native (recvmmsg/sendmmsg) path; false when no UDP. */
  get nativeUdp(): boolean {
    return this.#udp?.native ?? false;
  }

  /** CoreDNS's server name: `dns://HOST:PORT`, or `tls://HOST:PORT` for DNS over TLS. */
  #label(port: number): string {
    const label = serverLabel(this.hostname, port);
    return this.tls ? label.replace(/^dns:/, "tls:") : label;
  }

  /** The spreading of a shared UDP socket's group; null when the socket is not shared. */
  #spread(): UdpSpread | null {
    const { threads, spread, onSpread, loads, thread } = this.#tuning;
    if (!this.options.reusePort || threads <= 1) return null;
    return { sockets: threads, mode: spread, onSpread, loads, thread };
  }

  /** Stages the router (and UDP tuning) of a config being built; `activate` makes it live. */
  stage(router: ZoneRouter, tuning: UdpTuning): void {
    this.#staged = router;
    this.#stagedTuning = tuning;
  }

  /** Makes the staged router and tuning live. */
  activate(): void {
    if (this.#staged) this.#router = this.#staged;
    if (this.#stagedTuning) this.#tuning = this.#stagedTuning;
    if (this.#udp) {
      this.#udp.coalesceUs = this.#tuning.coalesceUs;
      this.#udp.spread = this.#spread();
    }
    this.#staged = null;
    this.#stagedTuning = null;
  }

  async start(): Promise<void> {
    this.activate();
    const hostname = this.hostname;
    try {
      if (this.tls) {
        // node:tls and node:net load only for a tls:// block.
        const { TlsStreamListener } = await import("./tls_stream.ts");
        this.#tcp = await TlsStreamListener.listen(hostname, this.port, this.tls);
      } else {
        const { udpOnly, reusePort, udpPath: path } = this.options;
        const { coalesceUs } = this.#tuning;
        const onDropped = (count: number) => repliesDropped.inc([this.#server], count);
        const spread = this.#spread();
        this.#udp = openUdpSocket(hostname, this.port, {
          reusePort,
          path,
          coalesceUs,
          onDropped,
          spread,
        });
        const port = this.#udp.addr.port;
        if (!udpOnly) this.#tcp = Deno.listen({ transport: "tcp", hostname, port });
      }
      this.#server = this.#label(this.addr!.port);
    } catch (err) {
      this.#udp?.close();
      this.#udp = null;
      throw new Error(
        `cannot listen on ${hostname === WILDCARD ? "" : hostname}:${this.port}: ${
          errorMessage(err)
        }` + (this.port < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""),
      );
    }
    if (this.#udp) this.#loops.push(this.#serveUdp(this.#udp));
    if (this.#tcp) this.#loops.push(this.#serveTcp(this.#tcp));
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

  /**
   * Answers each datagram. The socket reuses its receive memory, so the query gets its own copy
   * (decoded records may be views into it). Synchronous answers leave in the socket's batch;
   * awaited ones (forward) are sent when they resolve.
   */
  #serveUdp(socket: UdpSocket): Promise<void> {
    const local = socket.addr;
    const send = (reply: Uint8Array | null, to: Deno.NetAddr) => {
      if (reply !== null && !this.#closed) socket.send(reply, to);
    };
    return socket.serve((packet, remote, replyTo) => {
      const source = { proto: "udp" as const, remote, local, server: this.#server };
      const reply = answerPacket(copyBytes(packet), source, this.#router);
      if (reply instanceof Promise) reply.then((r) => send(r, replyTo));
      else send(reply, replyTo);
    }).catch((err) => {
      if (!this.#closed) log.error(`udp ${this.#server}: stopped serving: ${errorMessage(err)}`);
    });
  }

  /**
   * Accepts connections. Past the limit it makes room by closing the connection that has waited
   * longest for a query (RFC 7766 6.2.3 lets a server close idle connections under pressure),
   * or, when every connection is busy, closes the new one at once; so idle or trickling clients
   * cannot lock honest ones out, and connections cannot use up the process's descriptors. A
   * failed accept waits an exponential back-off, 5 ms doubling to 1 s (on EMFILE or ENFILE it
   * also closes the longest idle connection), and each distinct error is logged at most once a
   * second with a count of the repeats. DNS over TLS runs through this same loop and session;
   * its handshake is bounded by the session (see `TcpSession.run`).
   */
  async #serveTcp(listener: StreamListener): Promise<void> {
    const backoff = acceptBackoff();
    const limiter = new LogLimiter();
    const warn = (message: string) => {
      const line = limiter.admit(message, Date.now());
      if (line !== null) log.warn(line);
    };
    while (!this.#closed) {
      let conn: StreamConn;
      try {
        conn = await listener.accept();
        backoff.reset();
      } catch (err) {
        if (this.#closed) return;
        warn(`${this.#proto} accept failed: ${errorMessage(err)}`);
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
          warn(
            `${this.#proto} ${this.#server}: ${this.maxConnections} connections, all busy; refusing more`,
          );
          conn.close();
          continue;
        }
        warn(
          `${this.#proto} ${this.#server}: ${this.maxConnections} connections, the limit; ` +
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

  /** The transport named in warnings. */
  get #proto(): string {
    return this.tls ? "tls" : "tcp";
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

/** EMFILE or ENFILE: the process or the system has no descriptor left. */
function outOfDescriptors(err: unknown): boolean {
  return /too many open files|os error 2[34]\b/i.test(errorMessage(err));
}
