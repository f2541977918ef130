/**
 * The running server: loads the Corefile, starts what it needs, swaps configs on reload and
 * stops gracefully. Exactly one config serves at a time; a reload that fails anywhere (parse,
 * setup, start) leaves the running one untouched.
 */
import { defaultCorefile, loadCorefile, parseCorefile } from "../corefile/mod.ts";
import { keyString, type ServerBlock } from "../corefile/types.ts";
import { buildConfig, loadPlugins } from "./config.ts";
import { configActivated, onReloadRequest } from "../plugin/lifecycle.ts";
import type { DnsListener } from "./listener.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { setActiveReadiness } from "../plugin/readiness.ts";
import type { PluginList } from "../plugin/plugin.ts";
import { ResourcePool } from "../plugin/resources.ts";
import { chooseWorkers } from "./worker_count.ts";
import { WorkerGroup } from "./workers.ts";
import { ThreadLoads } from "../net/thread_loads.ts";
import type { SpreadMode } from "../net/udp_spread.ts";
import { retainStates } from "../plugin/shared_state.ts";

const log = logger("etcdns");

/** How the server finds and reads its Corefile. */
export interface ServerOptions {
  /** The plugins a Corefile may use, in chain order (the registry's list). */
  plugins: PluginList;
  /** The Corefile to read; null serves the default config (`.:PORT { whoami log }`). */
  corefilePath: string | null;
  /** The default port for keys without one (`-dns.port`). */
  dnsPort: number;
  /**
   * Worker threads (`workers N`): the module each runs (it calls `runWorkerThread`), and why
   * the native UDP socket cannot be used (null when it can). Absent: one thread, as in tests.
   */
  threads?: {
    module: URL;
    nativeUnavailable: string | null;
    /**
     * Called when a worker thread dies after the start (an uncaught error, as would end the
     * process in the main thread). Default: log it; /ready then reports not ready.
     */
    onWorkerDeath?: (message: string) => void;
  };
}

/** What a (re)load produced, for the startup banner and tests. */
export interface LoadedConfig {
  blocks: ServerBlock[];
  warnings: string[];
  listeners: DnsListener[];
}

/** Serves DNS for one Corefile. */
export class Server {
  readonly #pool = new ResourcePool();
  #loading: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** The worker threads once started; null with one thread, or until the load calls for them. */
  #group: WorkerGroup | null = null;
  /** The worker count chosen at the first start (0 before it); a reload cannot change it. */
  #workers = 0;
  /** The threads chosen at the first start, started or not. */
  #threads = 1;
  /** Where the serving threads share their loads; null with one thread. */
  #loads: ThreadLoads | null = null;
  /** Whether worker threads wait for the main thread to get busy (`spread auto`). */
  #waiting = false;
  /** The blocks being served, for threads that start later. */
  #blocks: ServerBlock[] = [];

  constructor(readonly options: ServerOptions) {}

  /** Reads the Corefile as the options say. Throws a CorefileError on bad input. */
  readCorefile(): { blocks: ServerBlock[]; warnings: string[]; files: readonly string[] } {
    const { corefilePath, dnsPort } = this.options;
    if (corefilePath === null) {
      return parseCorefile(defaultCorefile(dnsPort), {
        file: "<default>",
        dnsPort,
        directives: this.options.plugins.names,
      });
    }
    return loadCorefile(corefilePath, { dnsPort, directives: this.options.plugins.names });
  }

  /** Loads the Corefile and starts serving it. Throws if it cannot; nothing is left open then. */
  start(): Promise<LoadedConfig> {
    onReloadRequest((reason) => this.reload(reason));
    return this.#serialise(() => this.#apply());
  }

  /** Re-reads the Corefile and swaps to it; on any failure keeps the running config. */
  reload(reason = "reload requested"): Promise<boolean> {
    return this.#serialise(async () => {
      if (this.#stopped) return false;
      log.info(`${reason}: reloading the Corefile`);
      try {
        await this.#apply();
        log.info("reload complete");
        return true;
      } catch (err) {
        log.error(`reload failed, still serving the previous config: ${errorMessage(err)}`);
        return false;
      }
    });
  }

  /** Stops listening and releases everything (claimed slots are released at once). */
  stop(): Promise<void> {
    onReloadRequest(null);
    return this.#serialise(async () => {
      this.#stopped = true;
      await this.#group?.stop();
      this.#group = null;
      await this.#pool.close();
    });
  }

  async #apply(): Promise<LoadedConfig> {
    const parsed = this.readCorefile();
    const resources = this.#pool.begin();
    let built;
    try {
      await loadPlugins(parsed.blocks, this.options.plugins);
      built = buildConfig(parsed.blocks, {
        plugins: this.options.plugins,
        corefilePath: this.options.corefilePath ?? "",
        resources,
        shareUdp: this.options.threads?.nativeUnavailable === null,
      });
      this.#startWorkers(built.workers, parsed.blocks, built.udp.spread);
      const udp = {
        ...built.udp,
        threads: this.#threads,
        onSpread: () => this.#wakeWorkers("the main thread is busy"),
        loads: this.#loads ?? undefined,
        thread: 0,
      };
      for (const [listener, router] of built.routers) listener.stage(router, udp);
      await this.#pool.start();
      await this.#group?.prepare(parsed.blocks);
    } catch (err) {
      await this.#pool.abort();
      if (this.#workers === 0) {
        // The first start failed: no worker may outlive it.
        await this.#group?.stop();
        this.#group = null;
      }
      throw err;
    }
    if (this.#threads > 1) {
      built.readiness.register({ name: "workers", ready: () => this.#group?.serving ?? true });
    }
    for (const listener of built.routers.keys()) listener.activate();
    setActiveReadiness(built.readiness);
    await this.#pool.commit();
    await this.#group?.commit();
    this.#workers ||= this.#threads;
    this.#blocks = parsed.blocks;
    if (this.#waiting && built.udp.spread === "always") this.#wakeWorkers("spread always");
    configActivated({ files: parsed.files });
    for (const w of parsed.warnings) log.warn(w);
    return {
      blocks: parsed.blocks,
      warnings: parsed.warnings,
      listeners: [...built.routers.keys()],
    };
  }

  /**
   * On the first start, chooses the worker count and starts the worker threads, or, with
   * `spread auto`, leaves them waiting until the main thread gets busy (idle threads cost memory);
   * on a reload, warns when the Corefile asks for another count (it takes a restart).
   */
  #startWorkers(
    configured: number | null,
    blocks: readonly ServerBlock[],
    spread: SpreadMode,
  ): void {
    if (this.#workers > 0) {
      if (configured !== null && configured !== this.#workers) {
        log.warn(
          `plugin/workers: ${configured} workers asked, ${this.#workers} running; ` +
            "a new count takes effect at the next start",
        );
      }
      return;
    }
    const threads = this.options.threads;
    if (!threads) return;
    const ephemeral = blocks.some((b) => b.keys.some((k) => k.port === 0));
    const choice = chooseWorkers(
      configured,
      threads.nativeUnavailable,
      navigator.hardwareConcurrency,
      ephemeral,
    );
    if (choice.warning !== null) log.warn(choice.warning);
    if (choice.info !== null) log.info(choice.info);
    this.#threads = choice.count;
    if (choice.count <= 1) return;
    this.#loads = new ThreadLoads(choice.count);
    if (spread === "always") this.#group ??= this.#newGroup();
    else {
      this.#waiting = true;
      retainStates();
    }
  }

  #newGroup(): WorkerGroup {
    const threads = this.options.threads!;
    const onDeath = threads.onWorkerDeath ??
      ((message: string) => log.error(`${message}; /ready reports it until a restart`));
    const path = this.options.corefilePath ?? "";
    return new WorkerGroup(threads.module, this.#threads, path, this.#loads!.buffer, onDeath);
  }

  /**
   * Starts the waiting worker threads on the config being served: a listener's thread got busy
   * enough to spread the load (or a reload asked for `spread always`). Once started they stay.
   */
  #wakeWorkers(why: string): void {
    if (!this.#waiting || this.#stopped) return;
    this.#waiting = false;
    void this.#serialise(async () => {
      if (this.#stopped) return;
      const more = this.#threads - 1;
      log.info(`${why}: starting ${more} more thread${more === 1 ? "" : "s"} to serve UDP`);
      try {
        this.#group = this.#newGroup();
        await this.#group.prepare(this.#blocks);
        await this.#group.commit();
      } catch (err) {
        log.error(`worker threads could not start, serving with one: ${errorMessage(err)}`);
        await this.#group?.stop();
        this.#group = null;
      }
    });
  }

  /** Runs loads, reloads and stops one at a time. */
  #serialise<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#loading.then(fn, fn);
    this.#loading = next.catch(() => {});
    return next;
  }
}

/** The lines CoreDNS prints at startup: each server block key, one per line. */
export function bannerLines(blocks: readonly ServerBlock[]): string[] {
  return blocks.flatMap((b) => b.keys.map((k) => keyString(k).replace(/^dns:\/\//, "")));
}
