/** Waiting on conditions, never on fixed sleeps. */

/** Thrown by a `waitFor` check when waiting longer cannot help (say, the process died). */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes; returns that value.
 * Other errors from `check` are retried; a GiveUp ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}
