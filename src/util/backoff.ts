/**
 * Retry waits, the one way every loop in etcdns backs off: the etcd watch, the etcdhosts
 * connect loop, the idetcd claim loop and the TCP accept loop.
 */

/** How a Backoff grows. */
export interface BackoffOptions {
  /** The first wait, in milliseconds. */
  minMs: number;
  /** The longest wait, in milliseconds. */
  maxMs: number;
  /**
   * Random spread of each wait, as a fraction: 0.25 gives waits from 0.75× to 1.25× the
   * nominal one, so that many clients do not retry in step. Default 0 (exact waits).
   */
  jitter?: number;
}

/** Exponential back-off: each `next()` gives a wait and doubles the next, up to `maxMs`. */
export class Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  #current: number;

  constructor(options: BackoffOptions) {
    this.minMs = options.minMs;
    this.maxMs = options.maxMs;
    this.jitter = options.jitter ?? 0;
    this.#current = this.minMs;
  }

  /** The wait before the next attempt (with jitter); grows the one after. */
  next(): number {
    const nominal = this.#current;
    this.#current = Math.min(this.maxMs, this.#current * 2);
    if (this.jitter === 0) return nominal;
    return nominal * (1 - this.jitter + Math.random() * 2 * this.jitter);
  }

  /** Back to the shortest wait, after a success. */
  reset(): void {
    this.#current = this.minMs;
  }

  /** Waits `next()`, cut short when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    return sleep(this.next(), signal);
  }
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects: a loop that is told
 * to stop checks its own state after waking).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
