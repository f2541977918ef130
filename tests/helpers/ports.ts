/** Free loopback ports for tests. */

/**
 * Ports this test process already handed out. A port is free until its server binds it, so two
 * servers started back to back (before either binds) could be told the same port; one would then
 * die on its TCP bind, while SO_REUSEPORT would let both share the UDP port silently.
 */
const handedOut = new Set<number>();

/**
 * Where ports are looked for: below the kernel's ephemeral range (ip_local_port_range), from which
 * every client socket and every bind to port 0 takes one. A port found free there could be taken
 * by any process's next connection before the server it was meant for binds it; 30 nodes started
 * at once, each connecting to etcd, did that to one another.
 */
const RANGE = portRange();

function portRange(): { first: number; count: number } {
  let ephemeral = 32768;
  try {
    ephemeral = Number(
      Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").split(/\s+/)[0],
    );
  } catch { /* not Linux: its default */ }
  const first = 20000;
  return ephemeral - first >= 2000
    ? { first, count: ephemeral - first }
    : { first: 10000, count: 10000 };
}

/** A port that is free for both UDP and TCP on 127.0.0.1 right now, and not handed out before. */
export function freePort(hostname = "127.0.0.1"): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE.first + Math.floor(Math.random() * RANGE.count);
    if (handedOut.has(port)) continue;
    let tcp: Deno.Listener | null = null;
    try {
      tcp = Deno.listen({ hostname, port });
      const udp = Deno.listenDatagram({ transport: "udp", hostname, port });
      udp.close();
      handedOut.add(port);
      return port;
    } catch {
      // taken; try another
    } finally {
      tcp?.close();
    }
  }
  throw new Error("no free loopback port found after 200 attempts");
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
