/**
 * The main thread's side of `workers N`: starts N-1 worker threads (the main thread is worker
 * 0), walks them through each config's prepare/commit/abort with the main thread's own pool,
 * forwards shared state to them, gathers their metrics for /metrics and stops them.
 */
import type { ServerBlock } from "../corefile/types.ts";
import type { MetricSnapshot } from "../metrics/registry.ts";
import { gatherWorkerMetrics } from "../metrics/threads.ts";
import {
  connectThreads,
  forwardStates,
  heardFromThread,
  retainedStates,
} from "../plugin/shared_state.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import type { FromWorker, ToWorker } from "./worker_messages.ts";

const log = logger("etcdns");

/** How long a worker may take to prepare a config (etcd-backed resources wait up to ~3 s). */
const PREPARE_TIMEOUT_MS = 30_000;
/** How long a scrape waits for a worker's metrics. */
const METRICS_TIMEOUT_MS = 2_000;
/** How long a worker may take to close before it is terminated anyway. */
const STOP_TIMEOUT_MS = 5_000;

type Request = Extract<ToWorker, { id: number }>;
type Reply = Extract<FromWorker, { type: "reply" }>;
/** A request before it gets its id (Omit distributed over the union). */
type Unsent<R> = R extends unknown ? Omit<R, "id"> : never;

/** One worker thread and its requests in flight. */
class WorkerHandle {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  /** Set when the thread died (an uncaught error); it serves no more. */
  failed: string | null = null;

  constructor(
    module: URL,
    readonly index: number,
    threads: number,
    corefilePath: string,
    loads: SharedArrayBuffer,
    onDeath: (message: string) => void,
    onTell: (channel: string, value: unknown, from: WorkerHandle) => void,
  ) {
    this.#worker = new Worker(module, { type: "module", name: `etcdns worker ${index}` });
    this.#worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const message = e.data;
      if (message.type === "tell") return onTell(message.channel, message.value, this);
      const done = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      done?.(message);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.failed = e.message;
      for (const done of this.#pending.values()) done({ type: "reply", id: -1, error: e.message });
      this.#pending.clear();
      onDeath(`worker ${index} died: ${e.message}`);
    };
    this.post({ type: "init", index, threads, corefilePath, loads });
  }

  post(message: ToWorker): void {
    if (this.failed === null) this.#worker.postMessage(message);
  }

  /** Sends a request and resolves with its reply; rejects on an error, a timeout or death. */
  ask(request: Unsent<Request>, timeoutMs: number): Promise<Reply> {
    if (this.failed !== null) {
      return Promise.reject(new Error(`worker ${this.index} died: ${this.failed}`));
    }
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<Reply>();
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      reject(new Error(`worker ${this.index} did not answer '${request.type}' in ${timeoutMs} ms`));
    }, timeoutMs);
    this.#pending.set(id, (reply) => {
      clearTimeout(timer);
      if (reply.error !== undefined) {
        reject(new Error(`worker ${this.index}: ${reply.error}`));
      } else resolve(reply);
    });
    this.post({ ...request, id } as Request);
    return promise;
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** The worker threads of one server. */
export class WorkerGroup {
  readonly #workers: WorkerHandle[];

  /**
   * Starts `count - 1` threads running `module` (the main thread is the first worker). Every
   * state published from then on is forwarded to them, and what the main thread kept before
   * (retainStates) is given to them first. `loads` is where the threads report their loads to
   * each other (src/net/thread_loads.ts).
   * `onDeath` hears of a thread that died (an uncaught error); it serves no more.
   */
  constructor(
    module: URL,
    readonly count: number,
    corefilePath: string,
    loads: SharedArrayBuffer,
    onDeath: (message: string) => void,
  ) {
    this.#workers = Array.from(
      { length: count - 1 },
      (_, i) => new WorkerHandle(module, i + 1, count, corefilePath, loads, onDeath, relay),
    );
    // Threads started after resources published (the load grew) first get what is kept.
    for (const [key, value] of retainedStates()) {
      for (const w of this.#workers) w.post({ type: "state", key, value });
    }
    forwardStates((key, value) => {
      for (const w of this.#workers) w.post({ type: "state", key, value });
    });
    // What one worker tells reaches the main thread and every other worker.
    const tell = (channel: string, value: unknown, from: WorkerHandle | null) => {
      for (const w of this.#workers) if (w !== from) w.post({ type: "tell", channel, value });
    };
    function relay(channel: string, value: unknown, from: WorkerHandle): void {
      heardFromThread(channel, value);
      tell(channel, value, from);
    }
    connectThreads((channel, value) => tell(channel, value, null));
    gatherWorkerMetrics(() => this.#metrics());
  }

  /** Whether every worker thread is alive (for /ready). */
  get serving(): boolean {
    return this.#workers.every((w) => w.failed === null);
  }

  /**
   * Has every worker build and start the config of `blocks` without serving it. If any fails,
   * the others drop theirs and this throws: the caller keeps the old config everywhere.
   */
  async prepare(blocks: ServerBlock[]): Promise<void> {
    const results = await Promise.allSettled(
      this.#workers.map((w) => w.ask({ type: "prepare", blocks }, PREPARE_TIMEOUT_MS)),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await this.#all("abort");
      throw (failed as PromiseRejectedResult).reason;
    }
  }

  /** Makes every worker serve its prepared config. */
  commit(): Promise<void> {
    return this.#all("commit");
  }

  /** Drops every worker's prepared config. */
  abort(): Promise<void> {
    return this.#all("abort");
  }

  /** Closes every worker's resources and ends the threads. */
  async stop(): Promise<void> {
    forwardStates(null);
    connectThreads(null);
    gatherWorkerMetrics(null);
    await Promise.allSettled(this.#workers.map((w) => w.ask({ type: "stop" }, STOP_TIMEOUT_MS)));
    for (const w of this.#workers) w.terminate();
  }

  async #all(type: "commit" | "abort"): Promise<void> {
    const results = await Promise.allSettled(
      this.#workers.map((w) => w.ask({ type }, PREPARE_TIMEOUT_MS)),
    );
    for (const r of results) {
      if (r.status === "rejected") log.error(`${type}: ${errorMessage(r.reason)}`);
    }
  }

  async #metrics(): Promise<MetricSnapshot[][]> {
    const results = await Promise.allSettled(
      this.#workers.map((w) => w.ask({ type: "metrics" }, METRICS_TIMEOUT_MS)),
    );
    return results.flatMap((r) => r.status === "fulfilled" ? [r.value.metrics ?? []] : []);
  }
}
