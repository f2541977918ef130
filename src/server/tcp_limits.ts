/**
 * The limits that keep one TCP client from exhausting the server (issue 9), and the small pure
 * helpers the accept loop uses: its back-off (the shared one, src/util/backoff.ts) and a log
 * limiter.
 */
import { libc, openFileSoftLimit } from "../net/libc.ts";
import { Backoff } from "../util/backoff.ts";

/** How long a connection may wait for the first byte of its next query (CoreDNS: 10 s). */
export const TCP_IDLE_TIMEOUT_MS = 10_000;
/**
 * How long a whole query (2-byte length and body) may take to arrive, counted from its first
 * byte. A trickle cannot stretch it: a connection that never completes a query is closed within
 * idle + query timeouts (15 s) of its last answered query or of connecting.
 */
export const TCP_QUERY_TIMEOUT_MS = 5_000;
/** How long one write may make no progress (the client reads nothing) before we close. */
export const TCP_WRITE_TIMEOUT_MS = 10_000;
/** Queries read but not yet written back, per connection; past it we stop reading. */
export const TCP_MAX_IN_FLIGHT = 16;
/** Bytes of replies waiting to be written, per connection; past it we stop reading. */
export const TCP_MAX_QUEUED_BYTES = 256 * 1024;
/**
 * Bytes of replies waiting to be written over all of a thread's connections. Per-connection
 * limits alone let a thousand clients that never read hold a quarter of a gigabyte of replies
 * (and the queries' garbage with it); past this, connections that already have replies waiting
 * stop reading, and past twice this, such a connection is closed rather than given another
 * reply. Clients that read their replies have none waiting and are served as before.
 */
export const TCP_MAX_QUEUED_BYTES_TOTAL = 16 * 1024 * 1024;
/** The connection limit per listener when the descriptor limit allows it. */
export const TCP_MAX_CONNECTIONS = 1000;
/** The fewest connections per listener, however low the descriptor limit. */
const TCP_MIN_CONNECTIONS = 16;

/** The accept loop's back-off after a failed accept: first and longest wait. */
export const ACCEPT_BACKOFF_MIN_MS = 5;
export const ACCEPT_BACKOFF_MAX_MS = 1000;

/**
 * The connection limit for one listener: 1000, or half the open-file limit when that is lower,
 * so that connections alone cannot use the descriptors etcd, upstreams and files need.
 * `nofile` is the soft RLIMIT_NOFILE (null when unknown).
 */
export function maxConnectionsFor(nofile: number | null): number {
  if (nofile === null || !Number.isFinite(nofile)) return TCP_MAX_CONNECTIONS;
  return Math.max(TCP_MIN_CONNECTIONS, Math.min(TCP_MAX_CONNECTIONS, Math.floor(nofile / 2)));
}

/**
 * The soft open-file limit of this process: getrlimit(2) through libc, else /proc/self/limits
 * (which Deno reads only with --allow-all); null where neither works.
 */
export function openFileLimit(): number | null {
  const c = libc();
  if (c !== null) return openFileSoftLimit(c);
  try {
    return parseOpenFileLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return null;
  }
}

/** The soft "Max open files" value of a /proc/PID/limits text; null for unlimited or absent. */
export function parseOpenFileLimit(text: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m || m[1] === "unlimited") return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The accept loop's back-off: 5 ms doubling to 1 s, exact (no jitter: one process, no herd). */
export function acceptBackoff(): Backoff {
  return new Backoff({ minMs: ACCEPT_BACKOFF_MIN_MS, maxMs: ACCEPT_BACKOFF_MAX_MS });
}

/**
 * Lets each distinct message through at most once per interval; the next one that passes says
 * how many repeats were held back. Pure: the caller passes the time.
 */
export class LogLimiter {
  #seen = new Map<string, { at: number; suppressed: number }>();
  constructor(readonly intervalMs = 1000, readonly maxKeys = 64) {}

  /** The line to log now (with a count of suppressed repeats), or null to stay quiet. */
  admit(message: string, now: number): string | null {
    const entry = this.#seen.get(message);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return null;
    }
    const suppressed = entry?.suppressed ?? 0;
    if (!entry && this.#seen.size >= this.maxKeys) this.#seen.clear();
    this.#seen.set(message, { at: now, suppressed: 0 });
    return suppressed > 0 ? `${message} (${suppressed} repeats suppressed)` : message;
  }
}
