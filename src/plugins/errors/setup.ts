/** `errors { stacktrace; consolidate DURATION REGEXP [LEVEL] }` */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, fail, parseDuration, unknownProperty } from "../../corefile/args.ts";
import { type Consolidation, ErrorsPlugin, type Level } from "./handler.ts";

const LEVELS: ReadonlySet<string> = new Set(["warning", "error", "info", "debug"]);

/** Sets up errors. */
export const setupErrors: Setup = (d, ctx) => {
  expectArgs(d, "errors", 0);
  let stacktrace = false;
  const consolidate: Consolidation[] = [];
  for (const p of d.block ?? []) {
    if (p.name === "stacktrace") {
      expectArgs(p, "errors", 0);
      stacktrace = true;
    } else if (p.name === "consolidate") {
      expectArgs(p, "errors", 2, 3);
      const periodMs = parseDuration(p.args[0], p, "errors", "consolidate period");
      let pattern: RegExp;
      try {
        pattern = new RegExp(p.args[1]);
      } catch (err) {
        fail(p, "errors", `invalid regular expression '${p.args[1]}': ${(err as Error).message}`);
      }
      const level = (p.args[2] ?? "error") as Level;
      if (!LEVELS.has(level)) {
        fail(p, "errors", `unknown level '${level}': use warning, error, info or debug`);
      }
      consolidate.push({ periodMs, pattern, level });
    } else {
      unknownProperty(p, "errors");
    }
  }
  return new ErrorsPlugin(ctx.log, stacktrace, consolidate);
};
