/**
 * A turn of Deno's event loop taken without leaving the JS thread, for loops that read their own
 * (libc) sockets and must still let timers, TCP and other sockets run.
 *
 * Waiting on Deno's blocking thread pool would also give the event loop a turn, but it wakes
 * another thread and is woken back by it: on a loaded machine, and more so on a virtual one whose
 * idle vCPUs halt, one such wait in twenty took 0.3 ms to over 3 ms (measured on udp_native.ts's
 * loop at 80,000 queries/s). A datagram to a socket of Deno's own instead makes the event loop's
 * poll return at once, on this thread: it sends one byte to itself and waits for it.
 */

/** Yields to the event loop through a loopback socket of Deno's, opened on first use. */
export class EventLoopTurn {
  /** undefined: not opened yet; null: not available (no 127.0.0.1, no --unstable-net). */
  #conn: Deno.DatagramConn | null | undefined = undefined;
  readonly #byte = new Uint8Array(1);

  /**
   * Resolves after one turn of the event loop. Returns false, having waited for nothing, where
   * there is no socket for it; the caller then waits its own way.
   */
  async take(): Promise<boolean> {
    if (this.#conn === undefined) this.#conn = openLoopback();
    const conn = this.#conn;
    if (conn === null) return false;
    try {
      // Anything else that reaches the port only makes a turn shorter.
      await Promise.all([conn.send(this.#byte, conn.addr), conn.receive(this.#byte)]);
      return true;
    } catch {
      this.close();
      this.#conn = null;
      return false;
    }
  }

  /** Closes the socket; a later take() opens another. */
  close(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = undefined;
  }
}

function openLoopback(): Deno.DatagramConn | null {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  } catch {
    return null;
  }
}
