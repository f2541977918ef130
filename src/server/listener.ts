/** UDP and TCP listeners for one address and port, answering through a swappable router. */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { serverLabel } from "../plugin/query.ts";
import { answerPacket, respond } from "./responder.ts";
import { copyBytes } from "../dns/wire.ts";
import type { Resource } from "../plugin/resources.ts";
import { ZoneRouter } from "./router.ts";

const log = logger("etcdns");

/** How long a TCP connection may sit idle between queries (CoreDNS's default). */
export const TCP_IDLE_TIMEOUT_MS = 10_000;
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
  #conns = new Set<Deno.TcpConn>();
  #closed = false;
  #loops: Promise<void>[] = [];
  #server: string;

  constructor(readonly hostname: string, readonly port: number) {
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
    try {
      this.#udp?.close();
    } catch { /* already closed */ }
    try {
      this.#tcp?.close();
    } catch { /* already closed */ }
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
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

  async #serveTcp(listener: Deno.TcpListener): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.#closed) return;
        log.warn(`tcp accept failed: ${errorMessage(err)}`);
        continue;
      }
      this.#conns.add(conn);
      this.#serveConn(conn).finally(() => {
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch { /* already closed */ }
      });
    }
  }

  /** Reads length-framed queries until the client closes or stays idle too long. */
  async #serveConn(conn: Deno.TcpConn): Promise<void> {
    const remote = clientAddr(conn.remoteAddr);
    const local = conn.localAddr;
    const reader = new FrameReader(conn);
    let writing = Promise.resolve();
    const pending = new Set<Promise<void>>();
    while (!this.#closed) {
      const packet = await reader.next(TCP_IDLE_TIMEOUT_MS);
      if (packet === null) break;
      // Queries on one connection are answered concurrently; writes stay whole and in turn.
      const done = respond(
        packet,
        { proto: "tcp", remote, local, server: this.#server },
        this.#router,
      ).then((reply) => {
        if (reply === null) return;
        const framed = new Uint8Array(reply.length + 2);
        framed[0] = reply.length >> 8;
        framed[1] = reply.length & 0xff;
        framed.set(reply, 2);
        writing = writing.then(() => writeAll(conn, framed)).catch(() => {});
        return writing;
      });
      pending.add(done);
      done.finally(() => pending.delete(done));
    }
    await Promise.allSettled(pending);
    await writing;
  }
}

/** Reads 2-byte length-prefixed frames from a stream. */
class FrameReader {
  #buf = new Uint8Array(0);
  constructor(private readonly conn: Deno.Conn) {}

  /** The next frame, or null on EOF, error or idle timeout. */
  async next(idleMs: number): Promise<Uint8Array | null> {
    const header = await this.#read(2, idleMs);
    if (header === null) return null;
    const length = (header[0] << 8) | header[1];
    if (length === 0) return null;
    return await this.#read(length, idleMs);
  }

  async #read(n: number, idleMs: number): Promise<Uint8Array | null> {
    while (this.#buf.length < n) {
      const chunk = new Uint8Array(Math.max(n - this.#buf.length, 4096));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), idleMs);
      });
      let read: number | null;
      try {
        read = await Promise.race([this.conn.read(chunk), timeout]);
      } catch {
        read = null;
      } finally {
        clearTimeout(timer);
      }
      if (read === null) return null;
      const merged = new Uint8Array(this.#buf.length + read);
      merged.set(this.#buf);
      merged.set(chunk.subarray(0, read), this.#buf.length);
      this.#buf = merged;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** A client's address as users expect to see it: IPv4 clients of a dual-stack socket unmapped. */
function clientAddr(addr: Deno.Addr): Deno.NetAddr {
  const a = addr as Deno.NetAddr;
  if (a.hostname.startsWith("::ffff:") && a.hostname.includes(".")) {
    return { transport: a.transport, hostname: a.hostname.slice(7), port: a.port };
  }
  return a;
}
