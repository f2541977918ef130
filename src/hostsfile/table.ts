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
  ) {
    this.#wildcards = hasWildcard(v4) || hasWildcard(v6);
  }

  /** Whether any name is a wildcard: tables without one skip the second lookup. */
  readonly #wildcards: boolean;

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
          // A wildcard names no single host, so it has no reverse entry (as in CoreDNS).
          if (rev === undefined || name.startsWith("*.")) continue;
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

  /**
   * The addresses of `name` (lowercased FQDN) in one family: its own line's, else those of a
   * wildcard line one label up (`*.apps.example.org.` covers `web.apps.example.org.` but not
   * `a.web.apps.example.org.`), as CoreDNS's hosts plugin answers.
   */
  addresses(family: 4 | 6, name: string): readonly string[] | undefined {
    const byName = family === 4 ? this.v4 : this.v6;
    const ips = byName.get(name);
    if (ips !== undefined || !this.#wildcards) return ips;
    return byName.get(wildcardOf(name));
  }

  /** Whether `name` (lowercased FQDN) has at least one address, its own or a wildcard's. */
  has(name: string): boolean {
    if (this.v4.has(name) || this.v6.has(name)) return true;
    if (!this.#wildcards) return false;
    const wildcard = wildcardOf(name);
    return this.v4.has(wildcard) || this.v6.has(wildcard);
  }
}

/** The wildcard that would cover `name`: its first label replaced by `*`. */
function wildcardOf(name: string): string {
  const dot = name.indexOf(".");
  return dot < 0 || dot === name.length - 1 ? "*." : "*" + name.slice(dot);
}

function hasWildcard(byName: ReadonlyMap<string, unknown>): boolean {
  for (const name of byName.keys()) if (name.startsWith("*.")) return true;
  return false;
}
