/**
 * A datagram socket connected to itself: a byte sent to it ends a poll that includes it. The
 * listener loop (listener_loop.ts) polls it with its listening sockets, so that a socket that
 * starts serving while the loop waits on Deno's thread pool is polled at once, not after the
 * wait's timeout.
 *
 * It is a Unix socket with an abstract address the kernel picks (autobind), not a loopback UDP
 * one: that would take a port from the ephemeral range, where a test (or an operator) may just
 * have found a free port to listen on.
 */
import {
  EINTR,
  errno,
  type Libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./libc.ts";

const AF_UNIX = 1;
/** sizeof(struct sockaddr_un). */
const SOCKADDR_UN = 110;

/** A self-connected datagram socket that wakes the poll it is in. */
export class LoopWake {
  readonly #byte = new Uint8Array(1);

  private constructor(readonly c: Libc, readonly fd: number) {}

  /** Opens one; null where the kernel refuses (the loop then waits out its pool waits). */
  static open(c: Libc): LoopWake | null {
    const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return null;
    const name = new Uint8Array(new ArrayBuffer(SOCKADDR_UN));
    new DataView(name.buffer).setUint16(0, AF_UNIX, true);
    const length = new Uint32Array([SOCKADDR_UN]);
    // Binding just the family asks for an abstract address of the kernel's choosing.
    const bound = c.bind(fd, name, 2) === 0 &&
      c.getsockname(fd, name, new Uint8Array(length.buffer)) === 0 &&
      c.connect(fd, name, length[0]) === 0;
    if (bound) return new LoopWake(c, fd);
    c.close(fd);
    return null;
  }

  /** Makes the socket readable (a poll that includes it returns). */
  ring(): void {
    this.c.send(this.fd, this.#byte, 1n, MSG_DONTWAIT);
  }

  /** Reads what ring() sent, so that the socket no longer reads as ready. */
  drain(): void {
    for (;;) {
      if (this.c.recv(this.fd, this.#byte, 1n, MSG_DONTWAIT) >= 0) continue;
      if (errno(this.c) !== EINTR) return; // EAGAIN: drained
    }
  }

  /** Closes the descriptor (not during a poll that includes it). */
  close(): void {
    this.c.close(this.fd);
  }
}
