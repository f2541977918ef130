/** How many threads serve UDP: the `workers` setting, the cores, and whether the native path works. */

/** The count and, when it differs from what was asked or expected, the line to log. */
export interface WorkerChoice {
  count: number;
  /** A warning for an explicit count that cannot be honoured; an info line for a fallback. */
  warning: string | null;
  info: string | null;
}

/**
 * Chooses the worker count. Several threads need the native UDP socket (SO_REUSEPORT, so the
 * kernel spreads datagrams over one socket per thread); without it, one thread serves, with
 * Deno's socket. Absent a `workers` directive: one per core where the native path works.
 *
 * @param configured the `workers` directive's count, or null when the Corefile has none
 * @param native why the native path is unavailable, or null when it works
 * @param ephemeralPort whether a listener asks for port 0, which threads cannot share
 */
export function chooseWorkers(
  configured: number | null,
  native: string | null,
  cores: number,
  ephemeralPort = false,
): WorkerChoice {
  const wanted = configured ?? (native === null ? Math.max(1, cores) : 1);
  if (wanted === 1) {
    const info = configured === null && native !== null
      ? `serving with one thread on Deno's UDP socket: ${native}`
      : null;
    return { count: 1, warning: null, info };
  }
  const why = native ?? (ephemeralPort ? "a server block listens on port 0" : null);
  if (why === null) return { count: wanted, warning: null, info: null };
  const line = `${wanted} workers need SO_REUSEPORT sockets on fixed ports, but ${why}; ` +
    "serving with one thread";
  return configured === null
    ? { count: 1, warning: null, info: line }
    : { count: 1, warning: `plugin/workers: ${line}`, info: null };
}
