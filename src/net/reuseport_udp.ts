/**
 * A listening UDP socket through libc (see libc.ts) with SO_REUSEPORT, so that every worker thread
 * (`workers N`) binds its own socket on one address and port and the kernel spreads datagrams
 * over them by a hash of the client's address and port. Deno's own UDP sockets cannot set it.
 *
 * Shaped like Deno.DatagramConn (receive, send, close, addr), so the listener's UDP loop serves
 * either. As in connected_udp.ts, recvfrom and sendto run non-blocking on the JS thread (errno is
 * read where it was set); only the wait for a datagram, poll(2), runs on Deno's blocking pool, and
 * under load a datagram is usually there already, so the loop rarely leaves the JS thread.
 */
import {
  EAGAIN,
  EINTR,
  errno,
  type Libc,
  libc,
  MSG_DONTWAIT,
  POLLIN,
  SHUT_RDWR,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "./libc.ts";
import { AF_INET, AF_INET6, sockaddr } from "./sockaddr.ts";
import { formatV6 } from "../util/ipv6.ts";

/** What the listener's UDP loop needs of a socket: Deno.DatagramConn has exactly this. */
export interface UdpSocket {
  receive(buffer?: Uint8Array): Promise<[Uint8Array, Deno.Addr]>;
  send(data: Uint8Array, addr: Deno.Addr): Promise<number>;
  close(): void;
  readonly addr: Deno.Addr;
}

/** How long one poll waits before checking whether the socket closed. */
const POLL_MS = 1000;

/** Why a SO_REUSEPORT socket cannot be opened here, or null when it can. */
export function reusePortUnavailable(): string | null {
  if (Deno.build.os !== "linux") return `SO_REUSEPORT sockets are built for Linux only`;
  return libc() === null ? "libc cannot be loaded through FFI (--allow-ffi for libc)" : null;
}

/**
 * Binds a UDP socket with SO_REUSEPORT on `hostname` (an IP literal) and `port`. Throws like
 * Deno.listenDatagram ("Address already in use (os error 98)") when the bind fails.
 */
export function listenReusePort(hostname: string, port: number): UdpSocket {
  const c = libc();
  if (c === null) throw new Error(reusePortUnavailable() ?? "libc is not available");
  const sa = sockaddr(hostname, port);
  if (sa === null) throw new Error(`'${hostname}' is not an IP address`);
  const family = sa.length === 16 ? AF_INET : AF_INET6;
  const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket failed: os error ${errno(c)}`);
  const fail = (what: string): never => {
    const e = errno(c);
    c.close(fd);
    throw new Error(`${what}: ${e === 98 ? "Address already in use " : ""}(os error ${e})`);
  };
  if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, new Int32Array([1]), 4) !== 0) {
    fail("setsockopt SO_REUSEPORT");
  }
  if (c.bind(fd, sa, sa.length) !== 0) fail("bind");
  const bound = new Uint8Array(28);
  const len = new Uint32Array([bound.length]);
  if (c.getsockname(fd, bound, len) !== 0) fail("getsockname");
  return new ReusePortUdp(c, fd, netAddr(bound)!);
}

class ReusePortUdp implements UdpSocket {
  readonly #c: Libc;
  readonly #fd: number;
  #closed = false;
  #polling: Promise<unknown> | null = null;
  readonly #from = new Uint8Array(28);
  readonly #fromLen = new Uint32Array(1);
  readonly #pollfd = new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }

  constructor(c: Libc, fd: number, readonly addr: Deno.NetAddr) {
    this.#c = c;
    this.#fd = fd;
    const view = new DataView(this.#pollfd.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, POLLIN, true);
  }

  async receive(buffer = new Uint8Array(65535)): Promise<[Uint8Array, Deno.Addr]> {
    while (!this.#closed) {
      this.#fromLen[0] = this.#from.length;
      const n = Number(
        this.#c.recvfrom(
          this.#fd,
          buffer,
          BigInt(buffer.length),
          MSG_DONTWAIT,
          this.#from,
          this.#fromLen,
        ),
      );
      if (n >= 0) {
        const from = netAddr(this.#from);
        if (from !== null) return [buffer.subarray(0, n), from];
        continue; // not an IP peer: cannot happen on an IP socket
      }
      const e = errno(this.#c);
      if (e !== EAGAIN && e !== EINTR) throw new Error(`recvfrom failed: os error ${e}`);
      const polling = this.#c.poll(this.#pollfd, 1n, POLL_MS);
      this.#polling = polling;
      try {
        await polling;
      } finally {
        this.#polling = null;
      }
    }
    throw new Deno.errors.BadResource("the socket is closed");
  }

  send(data: Uint8Array, addr: Deno.Addr): Promise<number> {
    const a = addr as Deno.NetAddr;
    // An IPv6 socket (the dual-stack wildcard) reaches an IPv4 peer at its IPv4-mapped address.
    const v4 = !a.hostname.includes(":");
    const to = sockaddr(
      v4 && this.addr.hostname.includes(":") ? `::ffff:${a.hostname}` : a.hostname,
      a.port,
    );
    if (to === null || this.#closed) return Promise.resolve(0);
    const n = Number(
      this.#c.sendto(this.#fd, data, BigInt(data.length), MSG_DONTWAIT, to, to.length),
    );
    // A full send buffer drops the reply, as a full network would: the client retries.
    if (n < 0) return Promise.reject(new Error(`sendto failed: os error ${errno(this.#c)}`));
    return Promise.resolve(n);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const polling = this.#polling;
    if (polling === null) {
      this.#c.close(this.#fd);
      return;
    }
    // Wake the poll, and close the descriptor only once it returned (never reused under a call).
    this.#c.shutdown(this.#fd, SHUT_RDWR);
    polling.finally(() => this.#c.close(this.#fd));
  }
}

/** The address in a sockaddr_in/in6, as Deno reports peers (IPv4-mapped IPv6 as dotted). */
function netAddr(sa: Uint8Array): Deno.NetAddr | null {
  const view = new DataView(sa.buffer, sa.byteOffset, sa.byteLength);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET) {
    return { transport: "udp", hostname: `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`, port };
  }
  if (family !== AF_INET6) return null;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + 2 * i, false));
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const hostname = mapped ? `${sa[20]}.${sa[21]}.${sa[22]}.${sa[23]}` : formatV6(groups);
  return { transport: "udp", hostname, port };
}
