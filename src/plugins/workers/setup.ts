/** `workers N`: how many threads serve UDP queries, process-wide. */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock, parseInteger } from "../../corefile/args.ts";

/** The most workers one process runs: well past today's core counts, and a bound on threads. */
export const MAX_WORKERS = 256;

/**
 * Sets up workers: records the worker count for the whole process (the server checks that
 * every block that says it says the same). It adds nothing to the chain.
 */
export const setupWorkers: Setup = (d, ctx) => {
  expectArgs(d, "workers", 1);
  expectNoBlock(d, "workers");
  const count = parseInteger(d.args[0], d, "workers", "the number of workers", 1, MAX_WORKERS);
  ctx.workers?.(count);
  return null;
};
