/** Argument checks shared by every plugin setup, so that errors read the same everywhere. */
import { CorefileError, type Directive, type Position } from "./types.ts";

/** Throws a CorefileError at `at` for plugin `plugin`: `FILE:LINE - plugin/NAME: message`. */
export function fail(at: Position, plugin: string, message: string): never {
  throw new CorefileError(at, `plugin/${plugin}: ${message}`);
}

/** Checks that `d` has between `min` and `max` arguments. */
export function expectArgs(d: Directive, plugin: string, min: number, max = min): void {
  const n = d.args.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(d, plugin, `'${d.name}' takes ${want} argument${max === 1 ? "" : "s"}, got ${n}`);
  }
}

/** Checks that `d` has no `{ }` block. */
export function expectNoBlock(d: Directive, plugin: string): void {
  if (d.block !== null) fail(d, plugin, `'${d.name}' takes no block`);
}

/** Fails on an unknown property inside a plugin's block. */
export function unknownProperty(d: Directive, plugin: string): never {
  return fail(d, plugin, `unknown property '${d.name}'`);
}

/** Parses a whole number in [min, max]. */
export function parseInteger(
  text: string,
  at: Position,
  plugin: string,
  what: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^-?\d+$/.test(text)) fail(at, plugin, `${what} must be a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) {
    fail(at, plugin, `${what} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go-style duration ("500ms", "1m30s", "2h") into milliseconds. A bare number is taken
 * as seconds when `bareSeconds` is set, as several CoreDNS plugins accept ("ttl 30").
 */
export function parseDuration(
  text: string,
  at: Position,
  plugin: string,
  what: string,
  bareSeconds = false,
): number {
  if (bareSeconds && /^\d+$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  if (text === "0") return 0;
  if (pos === 0 || pos !== text.length) {
    fail(at, plugin, `${what} must be a duration such as 500ms, 5s or 1m, got '${text}'`);
  }
  return total;
}

/** Parses a TTL in seconds (0 to 2^31-1). */
export function parseTtl(text: string, at: Position, plugin: string, what = "ttl"): number {
  return parseInteger(text, at, plugin, what, 0, 2 ** 31 - 1);
}
