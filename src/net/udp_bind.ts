/**
 * The descriptor under a native listening socket (udp_native.ts): socket(2), its options and
 * bind(2), kept apart from the serving loop.
 */
import {
  errno,
  errnoText,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  type Libc,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "./libc.ts";
import { readPeer, SOCKADDR_SLOT } from "./peer.ts";
import { AF_INET6, sockaddr } from "./sockaddr.ts";

/**
 * The receive queue asked for, in bytes (the kernel doubles it for its bookkeeping). A small
 * datagram takes about 1 KiB of it, so this holds some 2,000 queries: 25 ms at 80,000 a second,
 * where Linux's default (208 KiB) holds under 3 ms. It costs nothing while the queue is empty.
 */
const RECEIVE_BUFFER = 1 << 20;

/** A bound, non-blocking UDP descriptor and the address it got. */
export interface BoundUdpDescriptor {
  fd: number;
  /** An IPv6 socket (whose peers and replies use sockaddr_in6). */
  v6: boolean;
  addr: Deno.NetAddr;
}

/**
 * Opens a non-blocking UDP socket bound to `hostname` (an IP literal; "::" is dual-stack) and
 * `port`, sharing the port when `reusePort`. Throws, naming the call and errno, when one fails.
 */
export function bindUdpDescriptor(
  c: Libc,
  hostname: string,
  port: number,
  reusePort: boolean,
): BoundUdpDescriptor {
  const sa = sockaddr(hostname, port);
  if (!sa) throw new Error(`not an IP address: ${hostname}`);
  const family = sa[0] | (sa[1] << 8);
  const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket: errno ${errno(c)}`);
  const fail = (call: string): never => {
    const e = errno(c);
    c.close(fd);
    throw new Error(`${call}: ${errnoText(e)}`);
  };
  const one = new Int32Array([1]);
  const zero = new Int32Array([0]);
  const opt = (level: number, name: number, value: Int32Array) =>
    c.setsockopt(fd, level, name, new Uint8Array(value.buffer), 4) === 0;
  if (reusePort && !opt(SOL_SOCKET, SO_REUSEADDR, one)) fail("SO_REUSEADDR");
  if (reusePort && !opt(SOL_SOCKET, SO_REUSEPORT, one)) fail("SO_REUSEPORT");
  // A deeper queue rides out a stall (a descheduled thread, a collection) instead of dropping
  // what a client then asks again a second later. FORCE passes net.core.rmem_max where the
  // process may (CAP_NET_ADMIN); else the kernel caps the request there. Best effort either way.
  const rcvbuf = new Int32Array([RECEIVE_BUFFER]);
  if (!opt(SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)) opt(SOL_SOCKET, SO_RCVBUF, rcvbuf);
  const wildcard6 = family === AF_INET6 && sa.subarray(8, 24).every((b) => b === 0);
  if (wildcard6 && !opt(IPPROTO_IPV6, IPV6_V6ONLY, zero)) fail("IPV6_V6ONLY");
  if (c.bind(fd, sa, sa.length) !== 0) fail("bind");
  const name = new Uint8Array(new ArrayBuffer(SOCKADDR_SLOT));
  const nameLength = new Uint32Array([SOCKADDR_SLOT]);
  if (c.getsockname(fd, name, new Uint8Array(nameLength.buffer)) !== 0) fail("getsockname");
  const local = readPeer(name, new Uint32Array(name.buffer), 0, false);
  if (!local) fail("getsockname");
  const addr: Deno.NetAddr = { transport: "udp", hostname: local!.hostname, port: local!.port };
  return { fd, v6: family === AF_INET6, addr };
}
