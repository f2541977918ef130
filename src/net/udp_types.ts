/** The contract of a listening UDP socket, kept by the native (libc) and the Deno paths alike. */
import type { UdpSpread } from "./udp_spread.ts";

/**
 * Called for each datagram received. `packet` is valid only during the call (its memory is
 * reused by the next receive): copy it to keep it. `remote` is the sender as the plugins see it
 * (an IPv4-mapped sender as `a.b.c.d`); replies go to `replyTo`. Must not throw.
 */
export type UdpPacketHandler = (
  packet: Uint8Array,
  remote: Deno.NetAddr,
  replyTo: Deno.NetAddr,
) => void;

/** A bound UDP socket that serves datagrams to a handler and sends replies. */
export interface UdpSocket {
  /** The address actually bound (the real port when asked for port 0). */
  readonly addr: Deno.NetAddr;
  /** Whether this is the native (recvmmsg/sendmmsg) path. */
  readonly native: boolean;
  /** Replies dropped so far (socket buffer full, unreachable peer, or a send error). */
  readonly dropped: number;
  /**
   * The coalescing window in microseconds, 0 for none (see UdpSocketOptions); settable while
   * serving. The Deno path keeps the value and does not coalesce.
   */
  coalesceUs: number;
  /**
   * How the sockets of this socket's SO_REUSEPORT group share datagrams (see udp_spread.ts);
   * settable while serving. null: the kernel's hash. The Deno path keeps the value only.
   */
  spread: UdpSpread | null;
  /**
   * Receives until close(), calling `onPacket` for each datagram; resolves once closed.
   * Call once.
   */
  serve(onPacket: UdpPacketHandler): Promise<void>;
  /**
   * Sends `reply` to `to` (a `replyTo` from the handler, or another address) soon, without waiting:
   * replies made while a batch is handled go out together after it; others within a microtask.
   * Never throws; a reply that cannot be sent is dropped and counted.
   */
  send(reply: Uint8Array, to: Deno.NetAddr): void;
  /** Closes the socket; a pending serve() resolves promptly. Safe to call twice. */
  close(): void;
}

/** How to open a listening UDP socket. */
export interface UdpSocketOptions {
  /**
   * SO_REUSEADDR and SO_REUSEPORT, so that several sockets (one per worker) bind the same port
   * and the kernel spreads datagrams over them. Default false: a taken port is an error. Native
   * path only (see `nativeUdpAvailable`): Deno's sockets cannot share a port (their reuseAddress
   * hands every datagram to the last socket bound), so the Deno path ignores it.
   */
  reusePort?: boolean;
  /**
   * "auto" (default): native where it works, else Deno's sockets; "native": fail rather than fall
   * back; "deno": Deno.listenDatagram. The environment variable ETCDNS_UDP (auto|native|deno)
   * overrides "auto", for tests and operators.
   */
  path?: UdpPath;
  /** Datagrams moved per recvmmsg/sendmmsg call (native path). Default 32. */
  batch?: number;
  /**
   * While datagrams come less than a fraction of a millisecond apart, sleep this many
   * microseconds after emptying the queue, so that one wake-up serves several (native path;
   * see udp_native.ts). 0 turns it off. Default DEFAULT_COALESCE_US.
   */
  coalesceUs?: number;
  /**
   * Called with how many replies were just dropped (the send buffer was full, the peer was
   * unreachable, or a send failed), for a metric: UDP may drop, but an operator should see it.
   */
  onDropped?: (count: number) => void;
  /** How the group shares datagrams, with `reusePort` (native path; see udp_spread.ts). */
  spread?: UdpSpread | null;
}

/** Which implementation a socket uses. */
export type UdpPath = "auto" | "native" | "deno";
