/** `log [NAMES...] [FORMAT] { class CLASSES...; minDuration D }` */
import { fqdn } from "../../dns/message.ts";
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, fail, parseDuration, unknownProperty } from "../../corefile/args.ts";
import { compileFormat } from "./format.ts";
import { LogPlugin, type ResponseClass } from "./handler.ts";

const CLASSES: ReadonlySet<string> = new Set(["success", "denial", "error", "all"]);

/** Sets up log. The last argument is the format when it contains a placeholder. */
export const setupLog: Setup = (d) => {
  const args = [...d.args];
  let format = "{common}";
  if (args.length > 0 && args[args.length - 1].includes("{")) format = args.pop()!;
  const names = args.length > 0 ? args.map(fqdn) : ["."];
  const classes = new Set<ResponseClass>();
  let minDurationMs: number | null = null;
  for (const p of d.block ?? []) {
    if (p.name === "class") {
      expectArgs(p, "log", 1, Infinity);
      for (const c of p.args) {
        if (!CLASSES.has(c)) {
          fail(p, "log", `unknown class '${c}': use success, denial, error or all`);
        }
        classes.add(c as ResponseClass);
      }
    } else if (p.name === "minDuration") {
      expectArgs(p, "log", 1);
      minDurationMs = parseDuration(p.args[0], p, "log", "minDuration");
    } else {
      unknownProperty(p, "log");
    }
  }
  if (classes.size === 0 || classes.has("all")) classes.clear();
  return new LogPlugin({ names, format: compileFormat(format), classes, minDurationMs });
};
