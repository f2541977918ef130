/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must
 * be a HELP, a TYPE, a blank line or a well-formed sample, or parsing throws.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed scrape. */
export interface Scrape {
  samples: Sample[];
  /** Metric family name -> counter, gauge, histogram, summary or untyped. */
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/;

/** Parses a scrape; throws naming the line on anything malformed. */
export function parsePrometheus(text: string): Scrape {
  const scrape: Scrape = { samples: [], types: new Map(), help: new Map() };
  const lines = text.split("\n");
  if (lines.pop() !== "") throw new Error("the exposition must end with a newline");
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      if (!NAME.test(m[2])) throw new Error(`bad metric name, ${where}`);
      if (m[1] === "TYPE") {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(m[3] ?? "")) {
          throw new Error(`bad type, ${where}`);
        }
        if (scrape.types.has(m[2])) throw new Error(`second TYPE for ${m[2]}, ${where}`);
        if (scrape.samples.some((s) => family(s.name, m[3]) === m[2])) {
          throw new Error(`TYPE after samples of ${m[2]}, ${where}`);
        }
        scrape.types.set(m[2], m[3]!);
      } else {
        scrape.help.set(m[2], m[3] ?? "");
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample, ${where}`);
    const value = parseValue(m[3]);
    if (value === null) throw new Error(`bad value, ${where}`);
    scrape.samples.push({ name: m[1], labels: parseLabels(m[2] ?? "", where), value });
  });
  return scrape;
}

function family(sample: string, type: string | undefined): string {
  return type === "histogram" ? sample.replace(/_(bucket|sum|count)$/, "") : sample;
}

function parseValue(text: string): number | null {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && Number.isFinite(n) ? n : null;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === "") return labels;
  const body = text.slice(1, -1);
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) throw new Error(`bad labels, ${where}`);
    if (m[1] in labels) throw new Error(`label ${m[1]} twice, ${where}`);
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    pos = re.lastIndex;
  }
  return labels;
}

/** The sum of the samples named `name` whose labels include `match`. */
export function sampleSum(
  scrape: Scrape,
  name: string,
  match: Record<string, string> = {},
): number {
  return scrape.samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** The samples named `name`. */
export function samplesOf(scrape: Scrape, name: string): Sample[] {
  return scrape.samples.filter((s) => s.name === name);
}
