/**
 * DNS exchanges with one upstream server over UDP or TCP, reusing sockets between exchanges as
 * CoreDNS's forward does, for queries and health probes.
 */
import { frame, FrameReader, writeAll } from "../../dns/framing.ts";
import { type DnsMessage, type Question } from "../../dns/message.ts";
import {
  abortable,
  accept,
  ExchangeError,
  hostPort,
  sameHost,
  type Transport,
  type UpstreamOptions,
  type UpstreamTls,
} from "./exchange.ts";
import { ConnectedUdp, ConnectionRefused } from "../../net/connected_udp.ts";
import { errorMessage } from "../../util/errors.ts";

/**
 * The smallest UDP reply buffer. The client's size would do (512 without EDNS), but some servers
 * send more than they were allowed; a datagram cut short by a small buffer would be dropped as
 * malformed, so take up to 4 KiB whatever the client said (the server truncates for the client).
 */
const MIN_UDP_BUFFER = 4096;
/** TLS handshakes pending at once per upstream (see Upstream.#startTls). */
const MAX_PENDING_HANDSHAKES = 4;
/** The exchange's own deadline bounds a TCP read; these only keep FrameReader's timers quiet. */
const NO_DEADLINE_MS = 2 ** 31 - 1;

interface UdpSocket {
  readonly kind: "udp";
  /**
   * A connected socket through libc when FFI is allowed (a closed port fails at once), else
   * Deno's unconnected one (a closed port looks like a silent one).
   */
  readonly conn: ConnectedUdp | Deno.DatagramConn;
  /** Sized to the largest reply asked for so far on this socket. */
  buf: Uint8Array;
  usedAt: number;
}

interface TcpSocket {
  readonly kind: "tcp";
  /** A TLS connection for a `tls://` upstream. */
  readonly conn: Deno.TcpConn | Deno.TlsConn;
  readonly frames: FrameReader;
  usedAt: number;
}

type Socket = UdpSocket | TcpSocket;

/** One upstream DNS server: an address plus caches of idle UDP sockets and TCP connections. */
export class Upstream {
  /** `host:port`, the `to` label of CoreDNS's forward metrics. */
  readonly label: string;
  readonly #options: UpstreamOptions;
  readonly #idle: { udp: UdpSocket[]; tcp: TcpSocket[] } = { udp: [], tcp: [] };
  /** Sockets an exchange is using right now, so that close() can interrupt it. */
  readonly #busy = new Set<Socket>();
  #sweeper: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** TLS handshakes started and not yet settled. */
  #handshakes = 0;

  constructor(readonly hostname: string, readonly port: number, options: UpstreamOptions) {
    this.label = hostPort(hostname, port);
    this.#options = options;
  }

  /** Whether this is a DNS over TLS upstream. */
  get tls(): boolean {
    return this.#options.tls !== undefined;
  }

  /** How many idle sockets are cached, per transport (for tests and debugging). */
  get idleCount(): { udp: number; tcp: number } {
    return { udp: this.#idle.udp.length, tcp: this.#idle.tcp.length };
  }

  /**
   * Sends `query` (wire bytes whose ID is already set) and returns the first acceptable reply.
   * Over UDP, replies up to max(`udpSize`, 4 KiB) bytes are read; pass the client's EDNS size.
   * Throws ExchangeError on timeout, on network errors, or once the upstream is closed.
   *
   * `timeoutMs` bounds the exchange, opening a socket included, except that a new TLS connection
   * may take `tlsConnectMs` (when given) to connect and shake hands, and then `timeoutMs` to read,
   * as CoreDNS bounds them.
   */
  async exchange(
    query: Uint8Array,
    question: Question,
    transport: Transport,
    timeoutMs: number,
    udpSize = 512,
    tlsConnectMs?: number,
  ): Promise<DnsMessage> {
    // As CoreDNS: a TLS upstream is always reached over TLS (a TCP stream), whatever was asked.
    if (this.#options.tls) transport = "tcp";
    // A cached TCP connection may have been closed by the upstream while idle; that is not the
    // upstream's fault, so retry once on a fresh connection (CoreDNS's ErrCachedClosed).
    for (let attempt = 0;; attempt++) {
      const cached = this.#take(transport);
      try {
        return await this.#exchangeOn(cached, query, question, transport, udpSize, {
          timeoutMs,
          tlsConnectMs: this.#options.tls ? tlsConnectMs : undefined,
        });
      } catch (err) {
        if (err instanceof CachedClosed && attempt === 0) continue;
        if (err instanceof CachedClosed) throw new ExchangeError(err.message);
        throw err;
      }
    }
  }

  async #exchangeOn(
    cached: Socket | undefined,
    query: Uint8Array,
    question: Question,
    transport: Transport,
    udpSize: number,
    limits: { timeoutMs: number; tlsConnectMs: number | undefined },
  ): Promise<DnsMessage> {
    if (this.#closed) throw new ExchangeError(`upstream ${this.label} is closed`);
    let socket: Socket | undefined = cached;
    let timedOut = false;
    const abort = new AbortController();
    let remaining = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      remaining = Math.max(0, ms);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
        if (socket) this.#destroy(socket);
      }, remaining);
    };
    const connectMs = socket ? undefined : limits.tlsConnectMs;
    const separateConnect = connectMs !== undefined;
    arm(connectMs ?? limits.timeoutMs);
    try {
      if (!socket) socket = await abortable(this.#open(transport, abort.signal), abort.signal);
      if (timedOut) throw new ExchangeError(`timeout after ${Math.round(remaining)}ms`);
      if (separateConnect) arm(limits.timeoutMs);
      this.#busy.add(socket);
      const reply = socket.kind === "udp"
        ? await this.#udpExchange(socket, query, question, udpSize, remaining)
        : await this.#tcpExchange(socket, query, question, cached !== undefined);
      this.#busy.delete(socket);
      this.#giveBack(socket);
      return reply;
    } catch (err) {
      if (socket) this.#destroy(socket);
      if (err instanceof CachedClosed) throw err;
      if (timedOut) {
        throw new ExchangeError(
          `${transport} exchange with ${this.label} timed out after ${Math.round(remaining)}ms`,
        );
      }
      if (this.#closed) throw new ExchangeError(`upstream ${this.label} is closed`);
      if (err instanceof ExchangeError) throw err;
      const proto = transport === "tcp" && this.#options.tls ? "tls" : transport;
      throw new ExchangeError(`${proto} exchange with ${this.label}: ${errorMessage(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async #open(transport: Transport, signal: AbortSignal): Promise<Socket> {
    if (transport === "udp") {
      const connected = ConnectedUdp.open(this.hostname, this.port);
      if (connected) {
        return { kind: "udp", conn: connected, buf: new Uint8Array(MIN_UDP_BUFFER), usedAt: 0 };
      }
      const conn = Deno.listenDatagram({
        transport: "udp",
        hostname: this.hostname.includes(":") ? "::" : "0.0.0.0",
        port: 0,
      });
      return { kind: "udp", conn, buf: new Uint8Array(MIN_UDP_BUFFER), usedAt: 0 };
    }
    const tls = this.#options.tls;
    if (tls && this.#handshakes >= MAX_PENDING_HANDSHAKES) {
      // Behave as one more stalled handshake (the same timing), without dialling.
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      throw new ExchangeError(
        `${this.#handshakes} TLS handshakes with ${this.label} are pending; not starting another`,
      );
    }
    let conn: Deno.TcpConn | Deno.TlsConn;
    if (tls?.cert !== undefined) {
      conn = await this.#startTls(undefined, tls, signal);
    } else {
      const tcp = await Deno.connect({ hostname: this.hostname, port: this.port, signal });
      tcp.setNoDelay(true);
      conn = tls ? await this.#startTls(tcp, tls, signal) : tcp;
    }
    const frames = new FrameReader((into) => conn.read(into));
    return { kind: "tcp", conn, frames, usedAt: 0 };
  }

  /**
   * The TLS handshake on a fresh TCP connection; certificate errors surface here. With a server
   * name, Deno.startTls checks it (Deno.connectTls would resolve and dial the name itself); a
   * client certificate needs Deno.connectTls, so setup allows it only without a server name.
   *
   * Deno cannot cancel a handshake (closing the connection leaves its socket open until the peer
   * closes it), so one that outlives its exchange is left to finish: if it does, the connection
   * joins the idle ones for the next query. At most MAX_PENDING_HANDSHAKES are pending at once;
   * past that, #open waits out the exchange's timeout without dialling.
   */
  async #startTls(
    tcp: Deno.TcpConn | undefined,
    tls: UpstreamTls,
    signal: AbortSignal,
  ): Promise<Deno.TlsConn> {
    const conn = tcp
      ? await Deno.startTls(tcp, {
        hostname: tls.serverName ?? this.hostname,
        caCerts: tls.caCerts,
      })
      : await Deno.connectTls({
        hostname: this.hostname,
        port: this.port,
        caCerts: tls.caCerts,
        cert: tls.cert ?? "",
        key: tls.key ?? "",
      });
    this.#handshakes++;
    const handshake = conn.handshake().finally(() => this.#handshakes--);
    let late = false;
    handshake.then(() => {
      if (!late) return;
      // Finished after its exchange gave up: keep it for the next query.
      const frames = new FrameReader((into) => conn.read(into));
      this.#giveBack({ kind: "tcp", conn, frames, usedAt: 0 });
    }, () => {
      try {
        conn.close();
      } catch { /* closed already */ }
    });
    const aborted = new Promise<"aborted">((resolve) => {
      if (signal.aborted) resolve("aborted");
      else signal.addEventListener("abort", () => resolve("aborted"), { once: true });
    });
    if ((await Promise.race([handshake, aborted])) === "aborted") {
      late = true;
      throw new ExchangeError(`TLS handshake with ${this.label} did not finish in time`);
    }
    return conn;
  }

  async #udpExchange(
    s: UdpSocket,
    query: Uint8Array,
    question: Question,
    udpSize: number,
    timeoutMs: number,
  ): Promise<DnsMessage> {
    const size = Math.min(Math.max(udpSize, MIN_UDP_BUFFER), 65_535);
    if (s.buf.length < size) s.buf = new Uint8Array(size);
    if (s.conn instanceof ConnectedUdp) {
      return await this.#connectedExchange(s, s.conn, query, question, timeoutMs);
    }
    await s.conn.send(query, { transport: "udp", hostname: this.hostname, port: this.port });
    for (;;) {
      const [data, from] = await s.conn.receive(s.buf);
      const addr = from as Deno.NetAddr;
      if (addr.port !== this.port || !sameHost(addr.hostname, this.hostname)) continue;
      const got = accept(data, query, question);
      const reply = got instanceof Promise ? await got : got;
      if (reply) return reply;
    }
  }

  /**
   * Over a connected socket only the upstream's datagrams arrive; ECONNREFUSED (the port is
   * closed) fails the exchange at once. The exchange's timer closes the socket, which ends the
   * receive; its own bound (a little past the timer) only keeps a native wait from outliving it.
   */
  async #connectedExchange(
    s: UdpSocket,
    conn: ConnectedUdp,
    query: Uint8Array,
    question: Question,
    timeoutMs: number,
  ): Promise<DnsMessage> {
    try {
      conn.send(query);
      for (;;) {
        const n = await conn.receive(s.buf, timeoutMs + 50);
        const got = accept(s.buf.subarray(0, n), query, question);
        const reply = got instanceof Promise ? await got : got;
        if (reply) return reply;
      }
    } catch (err) {
      if (err instanceof ConnectionRefused) {
        throw new ExchangeError(`udp exchange with ${this.label}: connection refused`);
      }
      throw err;
    }
  }

  async #tcpExchange(
    s: TcpSocket,
    query: Uint8Array,
    question: Question,
    cached: boolean,
  ): Promise<DnsMessage> {
    if (!(await writeAll((b) => s.conn.write(b), frame(query)))) {
      if (cached) throw new CachedClosed(`cached connection to ${this.label} closed`);
      throw new ExchangeError(`cannot write to ${this.label} over TCP`);
    }
    let first = true;
    for (;;) {
      const message = await s.frames.next(NO_DEADLINE_MS, NO_DEADLINE_MS);
      if (message === null) {
        // EOF before any reply on a reused connection: the upstream closed it while idle.
        if (cached && first) throw new CachedClosed(`cached connection to ${this.label} closed`);
        throw new ExchangeError(`${this.label} closed the TCP connection`);
      }
      first = false;
      const got = accept(message, query, question);
      const reply = got instanceof Promise ? await got : got;
      if (reply) return reply;
    }
  }

  #take(transport: Transport): Socket | undefined {
    const idle = this.#idle[transport];
    const now = performance.now();
    for (;;) {
      const s = idle.pop();
      if (!s) return undefined;
      if (now - s.usedAt <= this.#options.expireMs) return s;
      this.#destroy(s);
    }
  }

  #giveBack(s: Socket): void {
    if (this.#closed || this.#options.expireMs <= 0) {
      this.#destroy(s);
      return;
    }
    s.usedAt = performance.now();
    const idle = this.#idle[s.kind] as Socket[];
    const max = this.#options.maxIdleConns ?? 0;
    if (max > 0 && idle.length >= max) {
      this.#destroy(s);
      return;
    }
    idle.push(s);
    if (this.#sweeper === undefined) this.#scheduleSweep();
  }

  #scheduleSweep(): void {
    const sweeper = setTimeout(() => {
      this.#sweeper = undefined;
      const now = performance.now();
      for (const kind of ["udp", "tcp"] as const) {
        const idle = this.#idle[kind] as Socket[];
        const keep = idle.filter((s) => now - s.usedAt <= this.#options.expireMs);
        for (const s of idle) if (!keep.includes(s)) this.#destroy(s);
        idle.length = 0;
        idle.push(...keep);
      }
      if (this.#idle.udp.length + this.#idle.tcp.length > 0) this.#scheduleSweep();
    }, this.#options.expireMs);
    this.#sweeper = sweeper;
    // Idle sockets alone should not keep the process alive.
    Deno.unrefTimer(sweeper);
  }

  #destroy(s: Socket): void {
    this.#busy.delete(s);
    try {
      s.conn.close();
    } catch {
      // Already closed: a timeout and an error can both get here.
    }
  }

  /** Closes every socket, idle or busy (busy exchanges fail), and stops the sweeper. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#sweeper);
    this.#sweeper = undefined;
    for (const s of [...this.#idle.udp, ...this.#idle.tcp, ...this.#busy]) this.#destroy(s);
    this.#idle.udp.length = 0;
    this.#idle.tcp.length = 0;
  }
}

/** A reused connection turned out to be closed by the peer; retry on a fresh one. */
class CachedClosed extends Error {}
