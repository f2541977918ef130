/**
 * The in-memory lookup table built once per load of a hosts file, so that answering a query is
 * a map lookup: name -> IPv4 and IPv6 addresses in file order, and reverse name -> names.
 */
import type { HostsRecord } from "./parse.ts";
import { mappedReverseName, reverseName } from "./ip.ts";

/** Build options. */
export interface HostsTableOptions {
  /** Whether to build the reverse (PTR) map; false for `no_reverse`. */
  reverse: boolean;
}

/** An immutable lookup table. Replace it whole on reload; never mutate a published one. */
export class HostsTable {
  /** An empty table. */
  static readonly EMPTY: HostsTable = new HostsTable(new Map(), new Map(), new Map(), 0);

  private constructor(
    /** Lowercased FQDN -> IPv4 addresses (canonical text), in file order, deduplicated. */
    readonly v4: ReadonlyMap<string, readonly string[]>,
    /** Lowercased FQDN -> IPv6 addresses, in file order, deduplicated. */
    readonly v6: ReadonlyMap<string, readonly string[]>,
    /** Reverse name ("1.0.0.10.in-addr.arpa.") -> names, in file order, deduplicated. */
    readonly ptr: ReadonlyMap<string, readonly string[]>,
    /** The number of distinct (address, name) entries. */
    readonly size: number,
  ) {}

  /**
   * Builds a table from record lists, in order: for each name, the addresses of the first list
   * come first (CoreDNS answers hosts-file entries before inline ones).
   */
  static build(
    sources: readonly (readonly HostsRecord[])[],
    options: HostsTableOptions,
  ): HostsTable {
    const v4 = new Map<string, string[]>();
    const v6 = new Map<string, string[]>();
    const ptr = new Map<string, string[]>();
    let size = 0;
    for (const records of sources) {
      for (const r of records) {
        const byName = r.ip.family === 4 ? v4 : v6;
        const ip = r.ip.text;
        const rev = options.reverse ? reverseName(r.ip) : undefined;
        let revNames = rev === undefined ? undefined : ptr.get(rev);
        for (const name of r.names) {
          const ips = byName.get(name);
          if (ips === undefined) {
            byName.set(name, [ip]);
          } else if (!ips.includes(ip)) {
            ips.push(ip);
          } else {
            continue;
          }
          size++;
          if (rev === undefined) continue;
          if (revNames === undefined) {
            revNames = [name];
            ptr.set(rev, revNames);
            // CoreDNS also answers the ::ffff: ip6.arpa form of every IPv4 entry.
            if (r.ip.family === 4) ptr.set(mappedReverseName(r.ip), revNames);
          } else if (!revNames.includes(name)) {
            revNames.push(name);
          }
        }
      }
    }
    return new HostsTable(v4, v6, ptr, size);
  }

  /** Whether `name` (lowercased FQDN) has at least one address. */
  has(name: string): boolean {
    return this.v4.has(name) || this.v6.has(name);
  }
}
