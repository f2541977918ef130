/**
 * HTTP endpoints for the health, ready and prometheus plugins.
 *
 * As in CoreDNS, one address gets one listener however many plugins and server blocks serve
 * paths on it: `health :8080` and `ready :8080` share a socket. The listener and each path are
 * resources keyed by address (and path), so a reload that keeps them keeps the socket open, and
 * a reload that drops a path stops serving it without touching the others.
 */
import type { Position } from "../corefile/types.ts";
import { errorMessage } from "../util/errors.ts";
import type { Resource, Resources } from "./resources.ts";
import { fail } from "../corefile/args.ts";

/** Answers one HTTP request for a path. */
export type HttpHandler = (req: Request) => Response | Promise<Response>;

/** A listen address as Go's net.SplitHostPort reads it: `host:port`, `[v6]:port` or `:port`. */
export interface HttpAddress {
  /** The host or IP to bind; "" means every address (IPv6 and IPv4). */
  readonly host: string;
  readonly port: number;
  /** The address as written, for messages and keys. */
  readonly text: string;
}

/** Parses `text` as an HTTP listen address for `plugin`; fails at `at` when it is not one. */
export function parseHttpAddress(text: string, at: Position, plugin: string): HttpAddress {
  const m = /^(?:\[([0-9A-Fa-f:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) {
    fail(at, plugin, `'${text}' is not an address: write HOST:PORT, [IPv6]:PORT or :PORT`);
  }
  const port = Number(m[3]);
  if (port > 65535) fail(at, plugin, `port ${port} in '${text}' is above 65535`);
  return { host: m[1] ?? m[2], port, text };
}

/**
 * One HTTP server on one address, dispatching on the exact path. Paths are added and removed
 * while it runs; anything else gets 404.
 */
export class HttpListener implements Resource {
  readonly #routes = new Map<string, HttpHandler>();
  /** Answers every path no exact route serves (the discovery plugin's `/TOKEN/...`). */
  #fallback: HttpHandler | null = null;
  #server: Deno.HttpServer<Deno.NetAddr> | null = null;

  constructor(
    readonly address: HttpAddress,
    /** The plugin that first asked for this address, named in a bind failure. */
    readonly plugin: string,
  ) {}

  /** The bound address once started (the real port when configured with port 0). */
  get addr(): Deno.NetAddr | null {
    return this.#server?.addr ?? null;
  }

  /** Serves `path` with `handler`. */
  route(path: string, handler: HttpHandler): void {
    this.#routes.set(path, handler);
  }

  /** Stops serving `path`, if `handler` is still the one serving it. */
  unroute(path: string, handler: HttpHandler): void {
    if (this.#routes.get(path) === handler) this.#routes.delete(path);
  }

  /** Serves every path that has no exact route with `handler`. */
  setFallback(handler: HttpHandler): void {
    this.#fallback = handler;
  }

  /** Stops the fallback, if `handler` is still the one serving it. */
  clearFallback(handler: HttpHandler): void {
    if (this.#fallback === handler) this.#fallback = null;
  }

  start(): Promise<void> {
    const { host, port, text } = this.address;
    // An empty host is Go's "every address": dual-stack where IPv6 exists, else IPv4 alone.
    const hosts = host === "" ? ["::", "0.0.0.0"] : [host];
    let lastError: unknown;
    for (const hostname of hosts) {
      try {
        this.#server = Deno.serve(
          { hostname, port, onListen: () => {}, onError: internalError },
          (req) => this.#handle(req),
        );
        return Promise.resolve();
      } catch (err) {
        lastError = err;
        // Only a missing IPv6 stack is worth the IPv4 retry; a taken port is taken on both.
        if (err instanceof Deno.errors.AddrInUse) break;
      }
    }
    const hint = port < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "";
    return Promise.reject(
      new Error(
        `plugin/${this.plugin}: cannot listen on ${text}: ${errorMessage(lastError)}${hint}`,
      ),
    );
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    await server?.shutdown();
  }

  #handle(req: Request): Response | Promise<Response> {
    const handler = this.#routes.get(pathOf(req.url)) ?? this.#fallback;
    if (!handler) return new Response("404 page not found\n", { status: 404, headers: TEXT });
    return handler(req);
  }
}

/** The plain-text content type Go's net/http sends for the bodies of /health and /ready. */
export const TEXT: Readonly<Record<string, string>> = {
  "content-type": "text/plain; charset=utf-8",
};

function internalError(err: unknown): Response {
  return new Response(`500 internal error: ${errorMessage(err)}\n`, { status: 500, headers: TEXT });
}

/** The path of a request URL, without parsing the whole URL. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}

/** Serves one path on a shared listener from `start` until `close`. */
class HttpRoute implements Resource {
  constructor(
    readonly listener: HttpListener,
    readonly path: string,
    readonly handler: HttpHandler,
  ) {}

  start(): Promise<void> {
    this.listener.route(this.path, this.handler);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listener.unroute(this.path, this.handler);
    return Promise.resolve();
  }
}

/**
 * Asks for `path` to be served by `handler` on `address`, for `plugin`. Opens nothing: the
 * server starts the listener (once per address) and then the route. A route kept across a
 * reload keeps its first handler, so handlers must read live state rather than capture config.
 * HTTP is per node: in a worker thread this asks for nothing and returns null.
 */
export function useHttpRoute(
  resources: Resources,
  plugin: string,
  address: HttpAddress,
  path: string,
  handler: HttpHandler,
): HttpListener | null {
  const listener = resources.perNode(
    `http|${address.text}`,
    () => new HttpListener(address, plugin),
  );
  if (listener === null) return null;
  resources.use(`http|${address.text}|${path}`, () => new HttpRoute(listener, path, handler));
  return listener;
}
