/**
 * `workers [N] [{ coalesce DURATION|off; spread auto|always }]`: how many threads serve UDP, and
 * how they read and share it.
 */
import type { Setup } from "../../plugin/plugin.ts";
import type { SpreadMode } from "../../net/udp_spread.ts";
import {
  expectArgs,
  fail,
  parseDuration,
  parseInteger,
  unknownProperty,
} from "../../corefile/args.ts";

const PLUGIN = "workers";

/** The most workers one process runs: well past today's core counts, and a bound on threads. */
export const MAX_WORKERS = 256;
/** The longest coalescing window: each datagram may wait this much more, so keep it short. */
export const MAX_COALESCE_US = 1000;

/**
 * Sets up workers: records the worker count, the UDP coalescing window and the spreading for the
 * whole process (the server checks that every block that says them says the same). It adds nothing to the
 * chain.
 */
export const setupWorkers: Setup = (d, ctx) => {
  expectArgs(d, PLUGIN, 0, 1);
  const count = d.args.length === 0
    ? null
    : parseInteger(d.args[0], d, PLUGIN, "the number of workers", 1, MAX_WORKERS);
  let coalesceUs: number | null = null;
  let spread: SpreadMode | null = null;
  for (const p of d.block ?? []) {
    if (p.name !== "coalesce" && p.name !== "spread") unknownProperty(p, PLUGIN);
    expectArgs(p, PLUGIN, 1);
    if (p.name === "spread") {
      const mode = p.args[0];
      if (mode !== "auto" && mode !== "always") {
        fail(p, PLUGIN, `spread must be 'auto' or 'always', got '${mode}'`);
      }
      spread = mode;
      continue;
    }
    const text = p.args[0];
    const us = text === "off" ? 0 : parseDuration(text, p, PLUGIN, "coalesce") * 1000;
    if (us > MAX_COALESCE_US) {
      fail(
        p,
        PLUGIN,
        `coalesce must be 'off' or at most 1ms (each query may wait that long), got '${text}'`,
      );
    }
    coalesceUs = Math.round(us);
  }
  if (count === null && coalesceUs === null && spread === null) {
    fail(d, PLUGIN, "'workers' needs a count, a block (coalesce, spread), or both");
  }
  ctx.workers?.({ count, coalesceUs, spread });
  return null;
};
