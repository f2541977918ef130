/** A Deno UDP echo server on loopback, for the tests of sockets that talk to an upstream. */

/** A running echo server. */
export interface UdpEcho {
  readonly port: number;
  /** Stops it and waits for its loop to end. */
  close(): Promise<void>;
}

/**
 * Echoes each datagram to its sender on `hostname`: at once, after `delayMs`, or never (null: a
 * silent upstream that still reads).
 */
export function startUdpEcho(hostname = "127.0.0.1", delayMs: number | null = 0): UdpEcho {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const serving = (async () => {
    for (;;) {
      const [data, from] = await conn.receive();
      if (delayMs === null) continue;
      if (delayMs === 0) await conn.send(data, from);
      else setTimeout(() => conn.send(data, from).catch(() => {}), delayMs);
    }
  })().catch(() => {});
  return {
    port: (conn.addr as Deno.NetAddr).port,
    async close() {
      conn.close();
      await serving;
    },
  };
}
