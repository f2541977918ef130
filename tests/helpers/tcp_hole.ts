/** A TCP upstream that accepts connections and never says a word (a TLS handshake that hangs). */

/** A silent TCP listener on 127.0.0.1 and the connections it holds. */
export interface TcpHole {
  readonly port: number;
  /** Every connection accepted so far, held open. */
  readonly held: Deno.Conn[];
  /** Stops listening, closes what it holds, and waits for the accept loop to end. */
  close(): Promise<void>;
}

/** Listens on a free loopback port, accepting connections and holding them, silent. */
export function startTcpHole(): TcpHole {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) held.push(c);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    held,
    async close() {
      listener.close();
      for (const c of held) c.close();
      await accepting;
    },
  };
}
