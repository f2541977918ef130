/** Argument checks shared by every plugin setup, so that errors read the same everywhere. */
import { notADuration, parseDurationMs } from "../util/duration.ts";
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

/**
 * Parses a Go-style duration ("500ms", "1m30s", "2h") into milliseconds, with the grammar every
 * source shares (src/util/duration.ts). A bare number is taken as seconds only when
 * `bareSeconds` is set, for settings that are TTLs in seconds ("ttl 30", idetcd's "lease 20").
 */
export function parseDuration(
  text: string,
  at: Position,
  plugin: string,
  what: string,
  bareSeconds = false,
): number {
  if (bareSeconds && /^\d+$/.test(text)) return Number(text) * 1000;
  const ms = parseDurationMs(text);
  if (ms === null) fail(at, plugin, notADuration(what, text));
  return ms;
}

/** The files named by CoreDNS's `tls [CERT KEY] [CA]` arguments. */
export interface TlsFileArgs {
  cert?: string;
  key?: string;
  ca?: string;
}

/**
 * Reads `tls` arguments as CoreDNS does: none (server-verified TLS with the system's CAs), one (a
 * CA), two (a client certificate and key) or three (certificate, key and CA).
 */
export function tlsFileArgs(d: Directive, plugin: string): TlsFileArgs {
  expectArgs(d, plugin, 0, 3);
  const [a, b, c] = d.args;
  if (d.args.length === 1) return { ca: a };
  if (d.args.length === 2) return { cert: a, key: b };
  if (d.args.length === 3) return { cert: a, key: b, ca: c };
  return {};
}
