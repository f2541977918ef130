/**
 * The one command-line parser of every etcdns command. It takes CoreDNS's Go-style flags and
 * GNU-style ones alike: `-conf FILE`, `-conf=FILE`, `--conf FILE`, `-dns.port 1053`, booleans
 * as `-quiet`, `--json` or `-json=false`, short aliases (`-o FILE`), repeatable lists
 * (`--endpoint a --endpoint b`). Flags and arguments may be mixed; `--` ends the flags.
 */

/** A flag's kind: a string (the last one given wins), a boolean, or a repeatable list. */
export type FlagSpec =
  | { type: "string"; default?: string; short?: string }
  | { type: "boolean"; short?: string }
  | { type: "list"; short?: string };

type ValueOf<S extends FlagSpec> = S extends { type: "boolean" } ? boolean
  : S extends { type: "list" } ? string[] | undefined
  : S extends { default: string } ? string
  : string | undefined;

/** The parsed values, typed by the specs. */
export type FlagValues<T extends Record<string, FlagSpec>> = { [K in keyof T]: ValueOf<T[K]> };

/** The parsed values and the arguments left after the flags. */
export interface ParsedFlags<T extends Record<string, FlagSpec>> {
  values: FlagValues<T>;
  rest: string[];
}

/** An error in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses `args` against `specs`. Unknown flags and missing values are UsageErrors. */
export function parseFlags<T extends Record<string, FlagSpec>>(
  args: readonly string[],
  specs: T,
): ParsedFlags<T> {
  const values: Record<string, string | string[] | boolean | undefined> = {};
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = spec.type === "boolean"
      ? false
      : spec.type === "string"
      ? spec.default
      : undefined;
    if (spec.short !== undefined) byShort.set(spec.short, name);
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
    const given = eq < 0 ? body : body.slice(0, eq);
    const name = given in specs ? given : byShort.get(given);
    if (name === undefined) throw new UsageError(`unknown flag: ${arg}`);
    const spec = specs[name];
    const flag = eq < 0 ? arg : arg.slice(0, arg.indexOf("="));
    if (spec.type === "boolean") {
      const text = eq < 0 ? "true" : body.slice(eq + 1);
      if (text !== "true" && text !== "false") {
        throw new UsageError(`${flag} takes true or false, got '${text}'`);
      }
      values[name] = text === "true";
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (i + 1 < args.length) value = args[++i];
    else throw new UsageError(`${flag} needs a value`);
    if (spec.type === "list") {
      const list = values[name];
      values[name] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      values[name] = value;
    }
  }
  return { values: values as FlagValues<T>, rest };
}
