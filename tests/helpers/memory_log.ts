/** A logger for tests that keeps its lines for assertions instead of printing them. */
import type { Logger } from "../../src/util/log.ts";

/** Returns a Logger whose info/warn/error lines collect in `lines` (debug is dropped). */
export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: () => {},
    info: (m) => lines.push(`INFO ${m}`),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
  };
}
