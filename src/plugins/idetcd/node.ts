/**
 * Who this node is, for idetcd: the addresses it publishes (detected from the first
 * non-loopback interface unless `address` is set) and its node id (hostname, published address
 * and DNS port unless `node_id` is set). `etcdns slots self` computes the same id.
 */

/** Published addresses; either may be absent. */
export interface Addresses {
  ipv4?: string;
  ipv6?: string;
}

/** Detects the published addresses: the first non-loopback interface's IPv4 and IPv6. */
export function detectAddresses(): Addresses {
  let interfaces: Deno.NetworkInterfaceInfo[];
  try {
    interfaces = Deno.networkInterfaces();
  } catch {
    return {};
  }
  const usable = (i: Deno.NetworkInterfaceInfo) =>
    i.family === "IPv4"
      ? !i.address.startsWith("127.")
      : i.address !== "::1" && !/^fe[89ab]/i.test(i.address);
  const first = interfaces.find((i) => i.name !== "lo" && usable(i));
  if (!first) return {};
  const mine = interfaces.filter((i) => i.name === first.name && usable(i));
  return {
    ipv4: mine.find((i) => i.family === "IPv4")?.address,
    ipv6: mine.find((i) => i.family === "IPv6")?.address,
  };
}

/** The host name, or undefined without permission to read it. */
export function safeHostname(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined;
  }
}

/** The default node id: hostname, published address and DNS port, unique per live instance. */
export function defaultNodeId(addresses: Addresses, dnsPort: number): string {
  // Without --allow-sys the address and port still tell instances apart.
  const host = safeHostname() ?? "localhost";
  return `${host}/${addresses.ipv4 ?? addresses.ipv6 ?? "-"}/${dnsPort}`;
}
