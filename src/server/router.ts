/** Picks the server block for a query: the longest zone that contains its name. */
import type { Chain } from "./chain.ts";

/** One server block as routing sees it. */
export interface Route {
  /** The block's zone for this key, e.g. "example.org.". */
  zone: string;
  /** The composed chain; null when the block has no plugins (answered REFUSED). */
  chain: Chain | null;
  /** The block's UDP size (the `bufsize` plugin); the default 1232 when absent. */
  bufsize?: number;
}

/** Up to this many zones, routing compares suffixes in place instead of slicing the name. */
const SCAN_LIMIT = 16;

/** Maps zones to server blocks for one listener (address and port). */
export class ZoneRouter {
  readonly #routes = new Map<string, Route>();
  /** The routes other than the root, longest zone first (the first match is the longest). */
  #byLength: Route[] = [];
  #root: Route | undefined;

  /** Adds a route; returns false if the zone is already taken on this listener. */
  add(route: Route): boolean {
    if (this.#routes.has(route.zone)) return false;
    this.#routes.set(route.zone, route);
    if (route.zone === ".") this.#root = route;
    else {
      this.#byLength.push(route);
      this.#byLength.sort((a, b) => b.zone.length - a.zone.length);
    }
    return true;
  }

  /** The zones this router serves. */
  get zones(): string[] {
    return [...this.#routes.keys()];
  }

  /**
   * The route for `qname` (lowercased FQDN). A few zones are compared as suffixes in place, with
   * no substring per label (the common case: one or a handful of blocks per listener); many are
   * looked up per parent name, one map lookup per label.
   */
  match(qname: string): Route | undefined {
    const zones = this.#byLength;
    if (zones.length <= SCAN_LIMIT) {
      const n = qname.length;
      for (let i = 0; i < zones.length; i++) {
        const zone = zones[i].zone;
        const at = n - zone.length;
        if (at >= 0 && qname.endsWith(zone) && (at === 0 || qname.charCodeAt(at - 1) === 0x2e)) {
          return zones[i];
        }
      }
      return this.#root;
    }
    const routes = this.#routes;
    let i = 0;
    while (i < qname.length) {
      const route = routes.get(i === 0 ? qname : qname.slice(i));
      if (route) return route;
      const dot = qname.indexOf(".", i);
      if (dot < 0) break;
      i = dot + 1;
    }
    return this.#root;
  }
}
