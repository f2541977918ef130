/** What the main thread and its worker threads say to each other (structured clone only). */
import type { ServerBlock } from "../corefile/types.ts";
import type { MetricSnapshot } from "../metrics/registry.ts";

/** Main to worker. Requests carry an `id` that the worker's `reply` names. */
export type ToWorker =
  /** First message: who the worker is. */
  | {
    type: "init";
    index: number;
    threads: number;
    corefilePath: string;
    /** The threads' shared load reports (src/net/thread_loads.ts). */
    loads: SharedArrayBuffer;
  }
  /** Build and start a config from these blocks, but serve it only on `commit`. */
  | { type: "prepare"; id: number; blocks: ServerBlock[] }
  /** Serve the prepared config; close what the old one alone used. */
  | { type: "commit"; id: number }
  /** Drop the prepared config: another thread failed to prepare. */
  | { type: "abort"; id: number }
  /** A new value of shared state (src/plugin/shared_state.ts). */
  | { type: "state"; key: string; value: unknown }
  /** A message another thread sent on a channel (src/plugin/shared_state.ts). */
  | { type: "tell"; channel: string; value: unknown }
  /** Send this thread's metrics. */
  | { type: "metrics"; id: number }
  /** Close everything; the main thread then terminates the worker. */
  | { type: "stop"; id: number };

/** Worker to main: the answer to the request `id`, or a message for the other threads. */
export type FromWorker =
  | { type: "reply"; id: number; error?: string; metrics?: MetricSnapshot[] }
  | { type: "tell"; channel: string; value: unknown };
