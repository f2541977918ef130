/** Free loopback ports for tests. */

/**
 * Ports this test process already handed out. The kernel may give the port it just freed again
 * to the next bind to port 0, so two servers started back to back (before either binds) could
 * be told the same port; one would then die on its TCP bind, while SO_REUSEPORT would let both
 * share the UDP port silently.
 */
const handedOut = new Set<number>();

/** A port that is free for both UDP and TCP on 127.0.0.1 right now, and not handed out before. */
export function freePort(hostname = "127.0.0.1"): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const tcp = Deno.listen({ hostname, port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    try {
      if (handedOut.has(port)) continue;
      const udp = Deno.listenDatagram({ transport: "udp", hostname, port });
      udp.close();
      handedOut.add(port);
      return port;
    } catch {
      // taken for UDP; try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no free loopback port found after 50 attempts");
}
/** `n` free loopback ports, all different and none of them in `avoid`. */
export function distinctPorts(n: number, avoid: number[] = []): number[] {
  const seen = new Set<number>(avoid);
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < n * 20; tries++) {
    const p = freePort();
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  }
  if (out.length < n) throw new Error(`found only ${out.length} of ${n} distinct free ports`);
  return out;
}
