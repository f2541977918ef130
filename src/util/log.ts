/**
 * Logging in CoreDNS's shape: `[LEVEL] plugin/NAME: message` on stdout, so that operators'
 * existing log filters keep working.
 */

/** A logger scoped to one component. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Debug lines are for developers: on with ETCDNS_DEBUG=1, off otherwise. */
const debugEnabled = Deno.env.get("ETCDNS_DEBUG") === "1";

const encoder = new TextEncoder();
/** Where lines are encoded, reused: the log plugin writes one line per query. */
let lineBuffer = new Uint8Array(1024);
const LINE_BUFFER_MAX = 16384;

/** Writes one line to stdout without buffering, so logs interleave correctly with child output. */
export function writeLine(line: string): void {
  // UTF-8 needs at most 3 bytes per UTF-16 unit, so encodeInto never stops short; a rare long
  // line gets its own bytes rather than growing the shared buffer for good.
  const need = 3 * line.length + 1;
  let bytes: Uint8Array;
  if (need > LINE_BUFFER_MAX) bytes = encoder.encode(line + "\n");
  else {
    if (need > lineBuffer.length) lineBuffer = new Uint8Array(LINE_BUFFER_MAX);
    const n = encoder.encodeInto(line, lineBuffer).written;
    lineBuffer[n] = 0x0a;
    bytes = lineBuffer.subarray(0, n + 1);
  }
  let written = Deno.stdout.writeSync(bytes);
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

/** Returns a logger whose lines carry `prefix`, e.g. "plugin/idetcd" or "etcdns". */
export function logger(prefix: string): Logger {
  const line = (level: string, message: string) => writeLine(`[${level}] ${prefix}: ${message}`);
  return {
    debug: (m) => debugEnabled && line("DEBUG", m),
    info: (m) => line("INFO", m),
    warn: (m) => line("WARNING", m),
    error: (m) => line("ERROR", m),
  };
}

/** A plugin's logger: `[LEVEL] plugin/NAME: ...`. */
export function pluginLogger(name: string): Logger {
  return logger(`plugin/${name}`);
}
