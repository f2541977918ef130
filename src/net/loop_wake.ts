/**
 * A loopback UDP socket connected to itself: a byte sent to it ends a poll that includes it. The
 * listener loop (listener_loop.ts) polls it with its listening sockets, so that a socket that
 * starts serving while the loop waits on Deno's thread pool is polled at once, not after the
 * wait's timeout.
 */
import { EINTR, errno, type Libc, MSG_DONTWAIT } from "./libc.ts";
import { sockaddr } from "./sockaddr.ts";
import { bindUdpDescriptor } from "./udp_bind.ts";

/** A self-connected loopback socket that wakes the poll it is in. */
export class LoopWake {
  readonly #byte = new Uint8Array(1);

  private constructor(readonly c: Libc, readonly fd: number) {}

  /** Opens one on 127.0.0.1 (else ::1); null where neither is available. */
  static open(c: Libc): LoopWake | null {
    for (const loopback of ["127.0.0.1", "::1"]) {
      let fd = -1;
      try {
        const bound = bindUdpDescriptor(c, loopback, 0, false);
        fd = bound.fd;
        const self = sockaddr(bound.addr.hostname, bound.addr.port)!;
        if (c.connect(fd, self, self.length) === 0) return new LoopWake(c, fd);
      } catch { /* no such loopback here: try the next */ }
      if (fd >= 0) c.close(fd);
    }
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
