/**
 * Go-style flags, as CoreDNS takes them: `-name value`, `-name=value`, `--name value`, and
 * booleans as `-name` or `-name=false`. node:util's parseArgs cannot read single-dash long
 * names, which CoreDNS users type out of habit.
 */

/** A flag's kind and default. */
export type FlagSpec = { type: "string"; default?: string } | { type: "boolean" };

/** The parsed values and the arguments left after the flags. */
export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  rest: string[];
}

/** An error in the command line, with the message to print before the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses `args` against `specs`. Unknown flags and missing values are UsageErrors. */
export function parseFlags(args: readonly string[], specs: Record<string, FlagSpec>): ParsedFlags {
  const values: ParsedFlags["values"] = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = spec.type === "boolean" ? false : spec.default;
  }
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      rest.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag: ${arg}`);
    if (spec.type === "boolean") {
      const text = eq < 0 ? "true" : body.slice(eq + 1);
      if (text !== "true" && text !== "false") {
        throw new UsageError(`flag -${name} takes true or false, got '${text}'`);
      }
      values[name] = text === "true";
    } else if (eq >= 0) {
      values[name] = body.slice(eq + 1);
    } else {
      if (i + 1 >= args.length) throw new UsageError(`flag -${name} needs a value`);
      values[name] = args[++i];
    }
  }
  return { values, rest };
}

/**
 * Rewrites Go-style single-dash long flags (`-conf x`, `-conf=x`) to `--conf` so that
 * node:util's parseArgs, which would read `-conf` as four short flags, accepts them.
 */
export function doubleDashLongFlags(args: readonly string[]): string[] {
  return args.map((a) => /^-[a-z][a-z.-]+(=.*)?$/.test(a) ? "-" + a : a);
}
