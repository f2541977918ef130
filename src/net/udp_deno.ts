/**
 * A listening UDP socket over Deno.listenDatagram: the fallback where the native path is not
 * available (not Linux, no --allow-ffi for libc, or its open failed). One datagram per receive,
 * each reply sent unawaited.
 */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import type { UdpPacketHandler, UdpSocket } from "./udp_types.ts";
import type { UdpSpread } from "./udp_spread.ts";

const log = logger("etcdns");

/** The largest UDP datagram we read; larger ones are cut and then fail to decode. */
const UDP_READ_SIZE = 65535;

/** A Deno UDP socket bound for listening. */
export class DenoUdpSocket implements UdpSocket {
  readonly native = false;
  /** Kept for the interface; Deno's socket hands over one datagram per call, so none coalesce. */
  coalesceUs = 0;
  spread: UdpSpread | null = null;
  #dropped = 0;
  #closed = false;

  private constructor(
    readonly conn: Deno.DatagramConn,
    private readonly onDropped?: (count: number) => void,
  ) {}

  get addr(): Deno.NetAddr {
    return this.conn.addr as Deno.NetAddr;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Binds `hostname` and `port`; a taken port is an error. */
  /** Binds `hostname`:`port`; `onDropped` as in UdpSocketOptions. */
  static open(
    hostname: string,
    port: number,
    onDropped?: (count: number) => void,
  ): DenoUdpSocket {
    return new DenoUdpSocket(Deno.listenDatagram({ transport: "udp", hostname, port }), onDropped);
  }

  async serve(onPacket: UdpPacketHandler): Promise<void> {
    const buffer = new Uint8Array(UDP_READ_SIZE);
    while (!this.#closed) {
      let packet: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [data, addr] = await this.conn.receive(buffer);
        packet = data;
        from = addr as Deno.NetAddr;
      } catch (err) {
        if (this.#closed) return;
        const { hostname, port } = this.addr;
        log.warn(`udp ${hostname}:${port}: receive failed: ${errorMessage(err)}`);
        continue;
      }
      try {
        onPacket(packet, unmapped(from), from);
      } catch (err) { // the handler must not throw; if it does, the socket keeps serving
        log.error(`udp ${this.addr.hostname}:${this.addr.port}: ${errorMessage(err)}`);
      }
    }
  }

  send(reply: Uint8Array, to: Deno.NetAddr): void {
    if (this.#closed) return;
    this.conn.send(reply, to).catch(() => {
      this.#dropped++;
      this.onDropped?.(1);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/** An IPv4-mapped sender (`::ffff:a.b.c.d`, on a dual-stack socket) as `a.b.c.d`. */
export function unmapped(addr: Deno.NetAddr): Deno.NetAddr {
  if (addr.hostname.startsWith("::ffff:") && addr.hostname.includes(".")) {
    return { transport: addr.transport, hostname: addr.hostname.slice(7), port: addr.port };
  }
  return addr;
}
