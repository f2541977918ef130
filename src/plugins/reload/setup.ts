/** `reload [INTERVAL] [JITTER]` */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock, fail, parseDuration } from "../../corefile/args.ts";
import { CorefileWatcher } from "./handler.ts";

/** CoreDNS's defaults and minimums, in milliseconds. */
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_JITTER_MS = 15_000;
export const MIN_INTERVAL_MS = 2_000;
export const MIN_JITTER_MS = 1_000;

/** The validated reload settings. */
export interface ReloadConfig {
  intervalMs: number;
  /** At most half the interval (a larger one is lowered to that, as CoreDNS does). */
  jitterMs: number;
}

/** Sets up reload: a watcher that re-reads the Corefile when it or an import changes. */
export const setupReload: Setup = (d, ctx) => {
  expectArgs(d, "reload", 0, 2);
  expectNoBlock(d, "reload");
  const config = parseReload(d.args, d);
  // Per node: the main thread reloads, and the workers follow it.
  ctx.resources.perNode(
    `reload|${config.intervalMs}|${config.jitterMs}`,
    () => new CorefileWatcher(config, ctx.log),
  );
  // reload watches files; it adds nothing to the DNS chain (as in CoreDNS).
  return null;
};

/** Parses and checks INTERVAL and JITTER. */
export function parseReload(args: readonly string[], at: Parameters<Setup>[0]): ReloadConfig {
  const intervalMs = args[0] === undefined
    ? DEFAULT_INTERVAL_MS
    : parseDuration(args[0], at, "reload", "interval");
  if (intervalMs < MIN_INTERVAL_MS) {
    fail(at, "reload", `interval must be at least 2s, got '${args[0]}'`);
  }
  let jitterMs = args[1] === undefined
    ? DEFAULT_JITTER_MS
    : parseDuration(args[1], at, "reload", "jitter");
  if (jitterMs < MIN_JITTER_MS) {
    fail(at, "reload", `jitter must be at least 1s, got '${args[1]}'`);
  }
  jitterMs = Math.min(jitterMs, intervalMs / 2);
  return { intervalMs, jitterMs };
}
