/** Free loopback ports for tests. */

/** A port that is free for both UDP and TCP on 127.0.0.1 right now. */
export function freePort(hostname = "127.0.0.1"): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const tcp = Deno.listen({ hostname, port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    try {
      const udp = Deno.listenDatagram({ transport: "udp", hostname, port });
      udp.close();
      return port;
    } catch {
      // taken for UDP; try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no free loopback port found after 50 attempts");
}
