/**
 * A listening UDP socket through libc (see libc.ts): recvmmsg(2) moves up to a batch of
 * datagrams per call, and the replies made while the batch is handled leave in one sendmmsg(2).
 * With SO_REUSEPORT, one such socket per worker shares a port, spread over as udp_spread.ts says.
 *
 * The socket is non-blocking and every call runs on the JS thread (so errno is read where it was
 * set); the thread's listener loop (listener_loop.ts) polls it with the thread's other listening
 * sockets and reads it when it is readable, lingering, coalescing and waiting as that file says.
 * close() during the loop's wait on Deno's thread pool shuts the socket down, which wakes that
 * poll, and the descriptor is closed only after the poll has returned, so it is never reused
 * under a call.
 */
import {
  EAGAIN,
  EINTR,
  errno,
  errnoText,
  type Libc,
  libc,
  libcUnavailableReason,
  MSG_DONTWAIT,
  MSG_TRUNC,
  SHUT_RDWR,
} from "./libc.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { MessageArena, MMSG_ARCHES } from "./mmsg.ts";
import { readPeer, SOCKADDR_SLOT, UdpPeer } from "./peer.ts";
import { sockaddr } from "./sockaddr.ts";
import { bindUdpDescriptor } from "./udp_bind.ts";
import { listenerLoop } from "./listener_loop.ts";
import { SpreadSteering, type UdpSpread } from "./udp_spread.ts";
import type { UdpPacketHandler, UdpSocket, UdpSocketOptions } from "./udp_types.ts";

const log = logger("etcdns");

/**
 * Bytes per received datagram. Longer ones are cut (and then fail to decode: FORMERR); CoreDNS
 * reads UDP queries into 512-byte buffers, so no real query comes near.
 */
export const NATIVE_READ_SIZE = 4096;
/** Bytes per queued reply; a longer reply is sent on its own with sendto(2). */
const REPLY_SLOT = 4096;
/**
 * The default coalescing window, in microseconds. At a steady 15,000 queries/s on the hosts
 * benchmark it cut server CPU per query from 17.2 to 10.6 µs and raised the mean latency from
 * 0.043 to 0.097 ms (docs/benchmarks.md); longer windows buy little more.
 */
export const DEFAULT_COALESCE_US = 100;

/** A libc UDP socket bound for listening. */
export class NativeUdpSocket implements UdpSocket {
  readonly native = true;
  #fd: number;
  readonly #c: Libc;
  readonly #rx: MessageArena;
  readonly #tx: MessageArena;
  readonly #v6: boolean;
  #queued = 0;
  #flushPending = false;
  #inBatch = false;
  #dropped = 0;
  #onDropped: ((count: number) => void) | null = null;
  #reads = 0;
  #closed = false;
  #serving = false;
  #coalesceNs = 0;
  #steering: SpreadSteering | null = null;

  private constructor(
    c: Libc,
    fd: number,
    v6: boolean,
    readonly addr: Deno.NetAddr,
    batch: number,
  ) {
    this.#c = c;
    this.#fd = fd;
    this.#v6 = v6;
    this.#rx = new MessageArena(batch, NATIVE_READ_SIZE, c.addressOf);
    this.#tx = new MessageArena(batch, REPLY_SLOT, c.addressOf);
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Reads that returned datagrams: received datagrams over this is the batching achieved. */
  get reads(): number {
    return this.#reads;
  }

  /** The coalescing window in microseconds (0: off); takes effect at the next read. */
  get coalesceUs(): number {
    return this.#coalesceNs / 1000;
  }

  set coalesceUs(us: number) {
    const ns = Math.max(0, Math.round(us * 1000));
    this.#coalesceNs = ns;
    if (this.#serving) listenerLoop.changed();
  }

  /** How this socket's SO_REUSEPORT group shares datagrams (udp_spread.ts); null: the kernel's hash. */
  get spread(): UdpSpread | null {
    return this.#steering?.group ?? null;
  }

  set spread(group: UdpSpread | null) {
    if (group === null || this.#fd < 0) return;
    if (this.#steering) this.#steering.group = group;
    else this.#steering = new SpreadSteering(this.#c, this.#fd, group);
  }

  /**
   * Binds a socket on `hostname` (an IP literal; "::" is dual-stack) and `port` (0: the kernel picks one).
   * Throws, saying why, when libc is not available here or a call fails (EADDRINUSE...).
   */
  static open(hostname: string, port: number, options: UdpSocketOptions = {}): NativeUdpSocket {
    const { reusePort = false, batch = 32, coalesceUs = DEFAULT_COALESCE_US } = options;
    const c = libc();
    if (!c) throw new Error(libcUnavailableReason());
    if (!MMSG_ARCHES.includes(Deno.build.arch)) {
      throw new Error(`no mmsghdr layout for ${Deno.build.arch}`);
    }
    const { fd, v6, addr } = bindUdpDescriptor(c, hostname, port, reusePort);
    const socket = new NativeUdpSocket(c, fd, v6, addr, Math.max(1, batch));
    socket.coalesceUs = coalesceUs;
    socket.#onDropped = options.onDropped ?? null;
    if (reusePort) socket.spread = options.spread ?? null;
    return socket;
  }

  serve(onPacket: UdpPacketHandler): Promise<void> {
    if (this.#serving) return Promise.reject(new Error("serve() was already called"));
    this.#serving = true;
    if (this.#closed) {
      this.#release();
      return Promise.resolve();
    }
    return listenerLoop.serve({
      fd: this.#fd,
      batch: this.#rx.count,
      isClosed: () => this.#closed,
      windowNs: () => this.#coalesceNs,
      read: () => this.#read(onPacket),
      sample: (now) => this.#steering?.sample(now, this.#reads),
      release: () => this.#release(),
    });
  }

  /** Reads and handles one batch: how many datagrams it read, or -1 after a (logged) error. */
  #read(onPacket: UdpPacketHandler): number {
    if (this.#closed) return 0;
    const c = this.#c;
    const n = c.recvmmsg(this.#fd, this.#rx.headers, this.#rx.count, MSG_DONTWAIT, 0n);
    if (n > 0) {
      this.#handle(n, onPacket);
      return n;
    }
    if (n === 0) return 0;
    const e = errno(c);
    if (e === EAGAIN || e === EINTR || this.#closed) return 0;
    // Transient (ENOMEM, ENOBUFS): say so; the loop pauses and goes on, as the Deno path does.
    log.warn(`udp ${this.addr.hostname}:${this.addr.port}: recvmmsg: ${errnoText(e)}`);
    return -1;
  }

  #handle(n: number, onPacket: UdpPacketHandler): void {
    const rx = this.#rx;
    this.#reads++;
    this.#inBatch = true;
    try {
      for (let i = 0; i < n; i++) {
        const at = rx.dataOffset(i);
        // A cut datagram (MSG_TRUNC) is handed on cut, as the Deno path does past 64 KiB.
        const length = (rx.flags(i) & MSG_TRUNC) !== 0 ? NATIVE_READ_SIZE : rx.received(i);
        const peer = readPeer(rx.bytes, rx.words, rx.nameOffset(i));
        rx.setNameLength(i, SOCKADDR_SLOT);
        if (peer === null) continue;
        try {
          onPacket(rx.bytes.subarray(at, at + length), peer, peer);
        } catch (err) { // the handler must not throw; if it does, the socket keeps serving
          log.error(`udp ${this.addr.hostname}:${this.addr.port}: ${errorMessage(err)}`);
        }
      }
    } finally {
      this.#inBatch = false;
      this.#flush();
    }
  }

  send(reply: Uint8Array, to: Deno.NetAddr): void {
    if (this.#closed || this.#fd < 0) return;
    const tx = this.#tx;
    if (reply.length > REPLY_SLOT) {
      this.#sendAlone(reply, to);
      return;
    }
    if (this.#queued === tx.count) this.#flush();
    const i = this.#queued;
    const nameWord = tx.nameOffset(i) >> 2;
    let nameLength: number;
    if (to instanceof UdpPeer) nameLength = to.writeRaw(tx.words, nameWord);
    else {
      const sa = this.#sockaddrOf(to);
      if (sa === null) {
        this.#drop(1);
        return;
      }
      tx.bytes.set(sa, nameWord << 2);
      nameLength = sa.length;
    }
    tx.bytes.set(reply, tx.dataOffset(i));
    tx.setDataLength(i, reply.length);
    tx.setNameLength(i, nameLength);
    this.#queued = i + 1;
    if (!this.#inBatch && !this.#flushPending) {
      this.#flushPending = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Sends the queued replies with as few sendmmsg calls as the kernel allows. */
  #flush(): void {
    this.#flushPending = false;
    const queued = this.#queued;
    this.#queued = 0;
    if (queued === 0 || this.#fd < 0) return;
    const tx = this.#tx;
    let sent = 0;
    while (sent < queued) {
      const headers = sent === 0 ? tx.headers : tx.headersFrom(sent);
      const n = this.#c.sendmmsg(this.#fd, headers, queued - sent, MSG_DONTWAIT);
      if (n > 0) {
        sent += n;
        continue;
      }
      const e = errno(this.#c);
      if (e === EINTR) continue;
      if (e === EAGAIN) { // the send buffer is full: drop the rest, as UDP may
        this.#drop(queued - sent);
        return;
      }
      this.#drop(1); // this one cannot be sent (unreachable, bad address): skip it
      sent++;
    }
  }

  #sendAlone(reply: Uint8Array, to: Deno.NetAddr): void {
    let sa: Uint8Array | null;
    if (to instanceof UdpPeer) {
      const raw = new Uint8Array(new ArrayBuffer(SOCKADDR_SLOT));
      sa = raw.subarray(0, to.writeRaw(new Uint32Array(raw.buffer), 0));
    } else sa = this.#sockaddrOf(to);
    const ok = sa !== null &&
      this.#c.sendto(this.#fd, reply, BigInt(reply.length), MSG_DONTWAIT, sa, sa.length) >= 0;
    if (!ok) this.#drop(1);
  }

  #drop(count: number): void {
    this.#dropped += count;
    this.#onDropped?.(count);
  }

  /** The sockaddr for an address given as text (an IPv4 one mapped on an IPv6 socket). */
  #sockaddrOf(to: Deno.NetAddr): Uint8Array | null {
    const v4 = !to.hostname.includes(":");
    return sockaddr(this.#v6 && v4 ? `::ffff:${to.hostname}` : to.hostname, to.port);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#serving) return this.#release();
    // The loop releases the descriptor before its next poll; a pending one is woken by the
    // shutdown, and the descriptor is released after it.
    if (listenerLoop.polling) this.#c.shutdown(this.#fd, SHUT_RDWR);
    listenerLoop.changed();
  }

  #release(): void {
    if (this.#fd < 0) return;
    this.#flush();
    this.#c.close(this.#fd);
    this.#fd = -1;
  }
}
