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

/** Maps zones to server blocks for one listener (address and port). */
export class ZoneRouter {
  readonly #routes = new Map<string, Route>();

  /** Adds a route; returns false if the zone is already taken on this listener. */
  add(route: Route): boolean {
    if (this.#routes.has(route.zone)) return false;
    this.#routes.set(route.zone, route);
    return true;
  }

  /** The zones this router serves. */
  get zones(): string[] {
    return [...this.#routes.keys()];
  }

  /**
   * The route for `qname` (lowercased FQDN): tries the name, then each parent up to the root,
   * so the cost is one map lookup per label.
   */
  match(qname: string): Route | undefined {
    const routes = this.#routes;
    let i = 0;
    while (i < qname.length) {
      const route = routes.get(i === 0 ? qname : qname.slice(i));
      if (route) return route;
      const dot = qname.indexOf(".", i);
      if (dot < 0) break;
      i = dot + 1;
    }
    return routes.get(".");
  }
}
