/**
 * The running server: loads the Corefile, starts what it needs, swaps configs on reload and
 * stops gracefully. Exactly one config serves at a time; a reload that fails anywhere (parse,
 * setup, start) leaves the running one untouched.
 */
import { defaultCorefile, loadCorefile, parseCorefile } from "../corefile/mod.ts";
import { keyString, type ServerBlock } from "../corefile/types.ts";
import { buildConfig } from "./config.ts";
import { configActivated, onReloadRequest } from "../plugin/lifecycle.ts";
import type { DnsListener } from "./listener.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { setActiveReadiness } from "../plugin/readiness.ts";
import type { PluginList } from "../plugin/plugin.ts";
import { ResourcePool } from "../plugin/resources.ts";

const log = logger("etcdns");

/** How the server finds and reads its Corefile. */
export interface ServerOptions {
  /** The plugins a Corefile may use, in chain order (the registry's list). */
  plugins: PluginList;
  /** The Corefile to read; null serves the default config (`.:PORT { whoami log }`). */
  corefilePath: string | null;
  /** The default port for keys without one (`-dns.port`). */
  dnsPort: number;
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
      await this.#pool.close();
    });
  }

  async #apply(): Promise<LoadedConfig> {
    const parsed = this.readCorefile();
    const resources = this.#pool.begin();
    let built;
    try {
      built = buildConfig(parsed.blocks, {
        plugins: this.options.plugins,
        corefilePath: this.options.corefilePath ?? "",
        resources,
      });
      for (const [listener, router] of built.routers) listener.stage(router);
      await this.#pool.start();
    } catch (err) {
      await this.#pool.abort();
      throw err;
    }
    for (const listener of built.routers.keys()) listener.activate();
    setActiveReadiness(built.readiness);
    await this.#pool.commit();
    configActivated({ files: parsed.files });
    for (const w of parsed.warnings) log.warn(w);
    return {
      blocks: parsed.blocks,
      warnings: parsed.warnings,
      listeners: [...built.routers.keys()],
    };
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
