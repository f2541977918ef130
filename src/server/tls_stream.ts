/**
 * The DNS-over-TLS listener: node:tls over node:net sockets, shaped as the `StreamListener` and
 * `StreamConn` the TCP accept loop and `TcpSession` use, so both transports share that code.
 *
 * Why not `Deno.listenTls`: Deno 2.9's `TlsConn.close()` waits for a pending handshake to finish,
 * so a client that connects and never sends a TLS hello could not be closed at the handshake
 * deadline and would hold a descriptor for as long as it liked. Here `close()` destroys the socket
 * at once, whatever state the handshake is in.
 */
import net from "node:net";
import tls from "node:tls";
import type { TlsCertificate } from "../plugin/plugin.ts";
import type { StreamConn, StreamListener } from "./tcp_session.ts";

/** Bytes read from the client and not yet taken by `read`; past it we stop reading the socket. */
const READ_BUFFER_HIGH = 64 * 1024;

/** Accepts TCP connections and wraps each in server-side TLS; the handshake runs in the session. */
export class TlsStreamListener implements StreamListener {
  #pending: TlsStreamConn[] = [];
  #waiters: Array<{ resolve: (c: StreamConn) => void; reject: (e: Error) => void }> = [];
  #closed = false;

  private constructor(readonly server: net.Server, readonly addr: Deno.NetAddr) {}

  /** Listens on `hostname`:`port` (0 picks a free port); rejects when it cannot bind. */
  static listen(hostname: string, port: number, cert: TlsCertificate): Promise<TlsStreamListener> {
    const context = tls.createSecureContext({ cert: cert.cert, key: cert.key });
    return new Promise((resolve, reject) => {
      let listener: TlsStreamListener | null = null;
      const server = net.createServer((socket: net.Socket) => {
        if (listener) listener.#arrived(new TlsStreamConn(socket, context));
        else socket.destroy();
      });
      server.once("error", reject);
      server.listen({ host: hostname, port }, () => {
        server.off("error", reject);
        server.on("error", () => {/* accept errors reach no one: node keeps listening */});
        const a = server.address() as net.AddressInfo;
        listener = new TlsStreamListener(server, {
          transport: "tcp",
          hostname: a.address,
          port: a.port,
        });
        resolve(listener);
      });
    });
  }

  #arrived(conn: TlsStreamConn): void {
    if (this.#closed) return conn.close();
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(conn);
    else this.#pending.push(conn);
  }

  accept(): Promise<StreamConn> {
    const conn = this.#pending.shift();
    if (conn) return Promise.resolve(conn);
    if (this.#closed) return Promise.reject(new Error("listener closed"));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.server.close();
    for (const conn of this.#pending.splice(0)) conn.close();
    for (const w of this.#waiters.splice(0)) w.reject(new Error("listener closed"));
  }
}

/** One server-side TLS connection with Deno.Conn's read/write/close. */
class TlsStreamConn implements StreamConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  readonly #raw: net.Socket;
  readonly #socket: tls.TLSSocket;
  readonly #secure: Promise<void>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #wake: (() => void) | null = null;

  constructor(raw: net.Socket, context: tls.SecureContext) {
    this.#raw = raw;
    this.remoteAddr = netAddr(raw.remoteAddress, raw.remotePort);
    this.localAddr = netAddr(raw.localAddress, raw.localPort);
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    this.#socket = socket;
    this.#secure = new Promise((resolve, reject) => {
      socket.once("secure", () => resolve());
      socket.once("error", reject);
      socket.once("close", () => reject(new Error("closed during the TLS handshake")));
    });
    this.#secure.catch(() => {});
    socket.on("data", (data: Uint8Array) => {
      this.#chunks.push(data);
      this.#buffered += data.length;
      if (this.#buffered > READ_BUFFER_HIGH) socket.pause();
      this.#notify();
    });
    const end = () => {
      this.#ended = true;
      this.#notify();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Resolves when the TLS handshake is done; rejects when it fails or the socket closes. */
  handshake(): Promise<void> {
    return this.#secure;
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#chunks.length === 0) return null;
    let n = 0;
    while (n < into.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const take = Math.min(chunk.length, into.length - n);
      into.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#buffered -= n;
    if (this.#buffered <= READ_BUFFER_HIGH / 4 && !this.#ended) this.#socket.resume();
    return n;
  }

  /** Resolves once the bytes are handed to the kernel; a client that never reads never resolves. */
  write(data: Uint8Array): Promise<number> {
    if (this.#ended) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (err?: Error | null) => err ? reject(err) : resolve(data.length));
    });
  }

  /** Destroys the socket at once, even mid-handshake. */
  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#raw.destroy();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

function netAddr(hostname: string | undefined, port: number | undefined): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}
