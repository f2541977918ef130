/**
 * The plugin contract. A plugin is middleware: it answers a query by writing a reply, or passes
 * it on with `next()`, and may look at or change the reply after `next()` returns.
 */
import type { Directive, ServerKey } from "../corefile/types.ts";
import type { QueryContext } from "./query.ts";
import type { Resources } from "./resources.ts";
import type { Logger } from "../util/log.ts";
import type { Readiness } from "./readiness.ts";
import type { SpreadMode } from "../net/udp_spread.ts";

/**
 * What a handler returns. `void` means it wrote the reply (or chose to drop the query). A
 * number is an rcode (SERVFAIL, REFUSED, FORMERR, NOTIMP) that the server turns into a reply,
 * unless a reply has already been written.
 */
export type HandlerResult = number | void;

/**
 * Calls the rest of the chain. Its result is synchronous when every later handler answered
 * synchronously (no promise on the common path), and it may throw what they throw: use
 * `await`, or check for a promise, never `.then` on it directly.
 */
export type Next = () => HandlerResult | Promise<HandlerResult>;

/** A configured plugin instance in one server block's chain. */
export interface Plugin {
  readonly name: string;
  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult>;
}

/** What a plugin's setup may use. */
export interface SetupContext {
  /** The server block's keys, normalised. */
  readonly keys: readonly ServerKey[];
  /** The zones of the server block's keys, deduplicated, e.g. ["example.org."]. */
  readonly zones: readonly string[];
  /** The Corefile's path, for plugins that watch it (reload). */
  readonly corefilePath: string;
  /** Shared, reload-surviving resources: slot claims, watches, HTTP listeners (etcd clients
   * are shared one level down, by src/etcd/pool.ts, which these resources acquire from). */
  readonly resources: Resources;
  /** Register a check that /ready consults. */
  readonly readiness: Readiness;
  /** The plugin's own logger. */
  readonly log: Logger;
  /** Sets the addresses this server block listens on (the `bind` plugin). */
  bind(addresses: string[]): void;
  /**
   * Sets the server block's UDP size: what our OPT advertises and the most a UDP reply carries
   * (the `bufsize` plugin). Absent where no block is being built (unit tests).
   */
  readonly bufsize?: (size: number) => void;
  /**
   * Sets the certificate a `tls://` server block serves DNS over TLS with (the `tls` plugin).
   * Absent where no block is being built (unit tests).
   */
  readonly tls?: (certificate: TlsCertificate) => void;
  /**
   * Sets how many threads serve UDP and how they read it, for the whole process (the `workers`
   * plugin); the server refuses two blocks that disagree. Absent where no block is being built
   * (unit tests).
   */
  readonly workers?: (setting: WorkersSetting) => void;
  /**
   * The whole server block once it is set up: call it later (e.g. from a resource's `start`),
   * not during setup. Absent where no block is being built (unit tests).
   */
  readonly summary?: () => BlockSummary;
}

/** What the `workers` plugin sets for the whole process; null leaves the default. */
export interface WorkersSetting {
  /** Threads that serve UDP (default: one per core where the native socket works). */
  readonly count: number | null;
  /** The UDP coalescing window in microseconds, 0 for none (default DEFAULT_COALESCE_US). */
  readonly coalesceUs: number | null;
  /** How the threads share UDP: "auto" (default) gathers a light load on one thread. */
  readonly spread: SpreadMode | null;
}

/** A server certificate and its private key, PEM text (not file names). */
export interface TlsCertificate {
  readonly cert: string;
  readonly key: string;
}

/** A set-up server block, as the prometheus plugin reports it (coredns_plugin_enabled). */
export interface BlockSummary {
  /** The names of the plugins in the block's chain, in chain order. */
  readonly plugins: readonly string[];
  /** The block's listeners as `dns://HOST:PORT` (see `serverLabel`). */
  readonly servers: readonly string[];
}

/**
 * Turns one directive (with its arguments and block) into a plugin instance, or throws a
 * CorefileError naming the directive's FILE:LINE. Setup opens nothing; whatever is long-lived
 * comes from `ctx.resources` and is started by the server.
 */
export type Setup = (directive: Directive, ctx: SetupContext) => Plugin | null;

/**
 * A registry entry: a directive name and how to load its setup. Loading is deferred so that a
 * process (and each worker thread) compiles only the plugins its Corefile names.
 */
export interface PluginSpec {
  readonly name: string;
  readonly load: () => Promise<Setup>;
  /** Whether a server block may use the directive more than once (forward). Default false. */
  readonly repeatable?: boolean;
}

/**
 * The plugins a server can run, in chain order: a query passes through a block's plugins in
 * this order whatever order the Corefile lists them in. The commands pass the registry's list
 * to the server, which never imports plugins itself.
 */
export class PluginList {
  /** The directive names, for the Corefile parser's unknown-directive check. */
  readonly names: ReadonlySet<string>;
  readonly #position: ReadonlyMap<string, number>;
  readonly #setups = new Map<string, Setup>();

  constructor(readonly specs: readonly PluginSpec[]) {
    this.names = new Set(specs.map((p) => p.name));
    this.#position = new Map(specs.map((p, i) => [p.name, i]));
  }

  /** Loads the setups of the named directives (unknown names are left to the config check). */
  async load(names: Iterable<string>): Promise<void> {
    const wanted = [...new Set(names)].filter((n) => this.names.has(n) && !this.#setups.has(n));
    const setups = await Promise.all(wanted.map((n) => this.spec(n)!.load()));
    wanted.forEach((n, i) => this.#setups.set(n, setups[i]));
  }

  /** Loads every plugin's setup (for tools and tests that build many Corefiles). */
  loadAll(): Promise<void> {
    return this.load(this.names);
  }

  /** The setup of a directive loaded by `load`; throws for one that was not loaded. */
  setupOf(name: string): Setup {
    const setup = this.#setups.get(name);
    if (!setup) throw new Error(`plugin/${name}: used before PluginList.load loaded it`);
    return setup;
  }

  /** The spec of a directive, or undefined for an unknown one. */
  spec(name: string): PluginSpec | undefined {
    const i = this.#position.get(name);
    return i === undefined ? undefined : this.specs[i];
  }

  /** A directive's place in the chain (unknown directives sort last). */
  position(name: string): number {
    return this.#position.get(name) ?? this.specs.length;
  }
}

/** An error a handler throws to fail the query with a specific rcode (default SERVFAIL). */
export class PluginError extends Error {
  constructor(message: string, readonly rcode: number = 2) {
    super(message);
    this.name = "PluginError";
  }
}
