/** A raw DNS client for tests that need exact bytes (fuzzing, malformed packets, TCP framing). */

/** Sends `packet` over UDP to 127.0.0.1:port; resolves with the reply, or null on timeout. */
export async function udpExchange(
  port: number,
  packet: Uint8Array,
  timeoutMs = 2000,
): Promise<Uint8Array | null> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await conn.send(packet, { transport: "udp", hostname: "127.0.0.1", port });
    const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
    const reply = await Promise.race([conn.receive().then(([data]) => data), timeout]);
    return reply;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

/** Sends several queries on one TCP connection and reads one framed reply per query. */
export async function tcpExchange(port: number, packets: Uint8Array[]): Promise<Uint8Array[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const p of packets) {
      const framed = new Uint8Array(p.length + 2);
      framed[0] = p.length >> 8;
      framed[1] = p.length & 0xff;
      framed.set(p, 2);
      await conn.write(framed);
    }
    const replies: Uint8Array[] = [];
    let buf = new Uint8Array(0);
    while (replies.length < packets.length) {
      const chunk = new Uint8Array(65537);
      const n = await conn.read(chunk);
      if (n === null) break;
      const merged = new Uint8Array(buf.length + n);
      merged.set(buf);
      merged.set(chunk.subarray(0, n), buf.length);
      buf = merged;
      while (buf.length >= 2 && buf.length >= 2 + ((buf[0] << 8) | buf[1])) {
        const len = (buf[0] << 8) | buf[1];
        replies.push(buf.slice(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
    }
    return replies;
  } finally {
    conn.close();
  }
}
