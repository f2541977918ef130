/**
 * The one duration grammar: Go's (`500ms`, `5s`, `1m30s`, `2h`), as CoreDNS reads durations.
 * A bare number is not a duration (CoreDNS refuses `timeout 5`), except `0`. The Corefile, the
 * YAML settings and every command-line flag read durations through this.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** The duration `text` in milliseconds, or null when it is not one. */
export function parseDurationMs(text: string): number | null {
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  return pos === 0 || pos !== text.length ? null : total;
}

/** The message for a text that is not a duration, the same in every source. */
export function notADuration(what: string, text: string): string {
  return `${what} must be a duration such as 500ms, 5s or 1m, got '${text}'`;
}
