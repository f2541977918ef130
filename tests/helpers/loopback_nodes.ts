/**
 * Several etcdns "nodes" on one host, for the docs' multi-node walkthroughs: each node binds its
 * own loopback address, given to its Corefile as {$NODE_IP}.
 */
import { type EtcdnsProcess, startEtcdns } from "./etcdns.ts";
import { freePort } from "./ports.ts";

/** Port 53 on `ip` if this process may bind it (root), else a free high port. */
export function dnsPort(ip: string): number {
  try {
    Deno.listenDatagram({ transport: "udp", hostname: ip, port: 53 }).close();
    Deno.listen({ hostname: ip, port: 53 }).close();
    return 53;
  } catch {
    return freePort(ip);
  }
}

/** Starts one etcdns per address in `ips` with `corefile`; if one fails, stops those started. */
export async function startNodes(corefile: string, ips: string[]): Promise<EtcdnsProcess[]> {
  const nodes: EtcdnsProcess[] = [];
  try {
    for (const ip of ips) {
      const port = dnsPort(ip);
      nodes.push(
        await startEtcdns({
          corefile,
          port,
          args: ["-dns.port", String(port)],
          env: { NODE_IP: ip },
          timeoutMs: 30_000,
        }),
      );
    }
    return nodes;
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
}
