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

/** Writes one line to stdout without buffering, so logs interleave correctly with child output. */
export function writeLine(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
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
