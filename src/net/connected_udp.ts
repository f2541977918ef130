/**
 * A connected UDP socket through libc (see libc.ts), because Deno's own UDP sockets cannot
 * connect(): on a connected socket the kernel turns an ICMP port unreachable into ECONNREFUSED on
 * the next read, so a closed upstream port fails at once instead of timing out (as CoreDNS's
 * connected sockets do).
 *
 * The socket is non-blocking: send and recv run on the JS thread (MSG_DONTWAIT), so errno is read
 * where it was set. The wait is the thread's listener loop's (readiness.ts, listener_loop.ts) while
 * one serves and can take it; otherwise poll(2) on a blocking thread, bounded by the receive's
 * timeout.
 * close() during a pending wait shuts the socket down (which wakes it) and closes the descriptor
 * only after the wait has returned, so a descriptor is never reused under a call.
 */
import {
  EAGAIN,
  ECONNREFUSED,
  EINTR,
  errno,
  type Libc,
  libc,
  MSG_DONTWAIT,
  POLLIN,
  SHUT_RDWR,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./libc.ts";
import { MAX_WATCHED, readiness } from "./readiness.ts";
import { sockaddr } from "./sockaddr.ts";

/** The upstream's port is closed (ICMP port unreachable): ECONNREFUSED. */
export class ConnectionRefused extends Error {
  constructor(message = "connection refused") {
    super(message);
    this.name = "ConnectionRefused";
  }
}

/** A receive that saw no datagram within its timeout. */
export class ReceiveTimeout extends Error {
  constructor(ms: number) {
    super(`no reply within ${Math.round(ms)}ms`);
    this.name = "ReceiveTimeout";
  }
}

/**
 * At most this many connected sockets at once: each one receiving on its own holds a thread of
 * Deno's blocking pool (512 threads), or one of the thread's watched descriptors. Past it, open()
 * returns null and callers use Deno's sockets.
 */
export const MAX_OPEN = MAX_WATCHED;
let open = 0;

export class ConnectedUdp {
  #fd: number;
  readonly #c: Libc;
  #closed = false;
  #polling: Promise<unknown> | null = null;

  private constructor(c: Libc, fd: number) {
    this.#c = c;
    this.#fd = fd;
  }

  /** How many are open now (for tests). */
  static get openCount(): number {
    return open;
  }

  /**
   * A socket connected to `hostname` (an IP literal) and `port`, or null when that is not
   * possible here (not Linux, no --allow-ffi, no libc, too many open, not an IP address).
   */
  static open(hostname: string, port: number): ConnectedUdp | null {
    if (open >= MAX_OPEN) return null;
    const c = libc();
    const sa = sockaddr(hostname, port);
    if (!c || !sa) return null;
    const family = new DataView(sa.buffer).getUint16(0, true);
    const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return null;
    if (c.connect(fd, sa, sa.length) !== 0) {
      c.close(fd);
      return null;
    }
    open++;
    return new ConnectedUdp(c, fd);
  }

  /** Sends one datagram; throws ConnectionRefused when an ICMP error is pending. */
  send(bytes: Uint8Array): void {
    if (this.#closed) throw new Error("socket is closed");
    const n = this.#c.send(this.#fd, bytes, BigInt(bytes.length), MSG_DONTWAIT);
    if (n >= 0) return;
    const e = errno(this.#c);
    if (e === ECONNREFUSED) throw new ConnectionRefused();
    // A full send buffer drops the datagram, as UDP may; the read then times out.
    if (e === EAGAIN) return;
    throw new Error(`send failed: errno ${e}`);
  }

  /**
   * Reads one datagram into `buf` and returns its length (cut to `buf`'s size). Rejects with
   * ConnectionRefused, with ReceiveTimeout after `timeoutMs`, or when the socket is closed.
   */
  async receive(buf: Uint8Array, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let pollfd: Uint8Array | null = null;
    for (;;) {
      if (this.#closed) throw new Error("socket is closed");
      if (this.#polling) throw new Error("a receive is already pending on this socket");
      const n = this.#c.recv(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT);
      if (n >= 0) return Number(n);
      const e = errno(this.#c);
      if (e === ECONNREFUSED) throw new ConnectionRefused();
      if (e !== EAGAIN && e !== EINTR) throw new Error(`recv failed: errno ${e}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new ReceiveTimeout(timeoutMs);
      let polling: Promise<unknown>;
      if (readiness.accepting) polling = readiness.wait(this.#fd, Date.now() + left);
      else {
        pollfd ??= new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }
        const view = new DataView(pollfd.buffer);
        view.setInt32(0, this.#fd, true);
        view.setInt16(4, POLLIN, true);
        view.setInt16(6, 0, true);
        polling = this.#c.poll(pollfd, 1n, Math.ceil(left));
      }
      this.#polling = polling;
      try {
        await polling;
      } finally {
        this.#polling = null;
        if (this.#closed) this.#release();
      }
    }
  }

  /** Closes the socket; a pending receive is woken and rejects. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#polling) this.#c.shutdown(this.#fd, SHUT_RDWR); // wakes the poll; it releases
    else this.#release();
  }

  #release(): void {
    if (this.#fd < 0) return;
    this.#c.close(this.#fd);
    this.#fd = -1;
    open--;
  }
}
