/**
 * The worker-thread side of `workers N`: builds the same config as the main thread (from the
 * parsed blocks the main thread sends) against a pool that skips per-node resources, and serves
 * it on its own UDP sockets. It follows the main thread's prepare/commit/abort, so a reload that
 * fails in any thread leaves every thread on the old config.
 */
import { buildConfig, type BuiltConfig, loadPlugins } from "./config.ts";
import { ResourcePool } from "../plugin/resources.ts";
import type { PluginList } from "../plugin/plugin.ts";
import {
  connectThreads,
  heardFromThread,
  publishState,
  retainStates,
} from "../plugin/shared_state.ts";
import { metrics } from "../metrics/registry.ts";
import { errorMessage } from "../util/errors.ts";
import { flushLines } from "../util/log.ts";
import { ThreadLoads } from "../net/thread_loads.ts";
import type { FromWorker, ToWorker } from "./worker_messages.ts";

/** The globals of a worker's scope that this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}

/** Runs this worker thread: answers the main thread's messages until it is terminated. */
export function runWorkerThread(plugins: PluginList): void {
  const scope = globalThis as unknown as WorkerScope;
  retainStates();
  connectThreads((channel, value) => scope.postMessage({ type: "tell", channel, value }));
  const pool = new ResourcePool(true);
  let corefilePath = "";
  let threads = 1;
  let index = 0;
  let loads: ThreadLoads | undefined;
  let prepared: BuiltConfig | null = null;
  // One message at a time: a commit must not overtake the prepare it follows.
  let queue: Promise<void> = Promise.resolve();

  const handle = async (
    message: Exclude<ToWorker, { type: "state" | "tell" | "metrics" }>,
  ): Promise<FromWorker | null> => {
    switch (message.type) {
      case "init":
        corefilePath = message.corefilePath;
        threads = message.threads;
        index = message.index;
        loads = new ThreadLoads(message.loads);
        return null;
      case "prepare": {
        const resources = pool.begin();
        try {
          await loadPlugins(message.blocks, plugins);
          const built = buildConfig(message.blocks, { plugins, corefilePath, resources });
          const udp = { ...built.udp, threads, loads, thread: index };
          for (const [listener, router] of built.routers) listener.stage(router, udp);
          await pool.start();
          prepared = built;
        } catch (err) {
          await pool.abort();
          return { type: "reply", id: message.id, error: errorMessage(err) };
        }
        return { type: "reply", id: message.id };
      }
      case "commit":
        for (const listener of prepared?.routers.keys() ?? []) listener.activate();
        prepared = null;
        await pool.commit();
        return { type: "reply", id: message.id };
      case "abort":
        prepared = null;
        await pool.abort();
        return { type: "reply", id: message.id };
      case "stop":
        await pool.close();
        flushLines(); // a terminated thread fires no unload: its held log lines go now
        return { type: "reply", id: message.id };
    }
  };

  scope.onmessage = (event) => {
    const message = event.data;
    // State and metrics go at once: a scrape must not wait behind a reload's etcd read.
    if (message.type === "state") return publishState(message.key, message.value);
    if (message.type === "tell") return heardFromThread(message.channel, message.value);
    if (message.type === "metrics") {
      return scope.postMessage({ type: "reply", id: message.id, metrics: metrics.snapshot() });
    }
    queue = queue.then(async () => {
      let reply: FromWorker | null;
      try {
        reply = await handle(message);
      } catch (err) {
        const id = "id" in message ? message.id : -1;
        reply = { type: "reply", id, error: errorMessage(err) };
      }
      if (reply !== null) scope.postMessage(reply);
    });
  };
}
