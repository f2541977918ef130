/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format (version 0.0.4).
 *
 * Why not prom-client: it pulls in Node's cluster and perf_hooks machinery and a global default
 * registry with process metrics we cannot all provide under Deno. What we need is about a
 * hundred lines, and recording on the hot path must stay a map lookup and an addition.
 */

type LabelValues = readonly string[];

/** One series' value in a snapshot: a count or level, or a histogram's buckets. */
export type SeriesValue = { n: number } | Buckets;

/** A metric and its series as plain data, to cross threads by structured clone. */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  labelNames: readonly string[];
  series: { labels: LabelValues; value: SeriesValue }[];
  /** A histogram's bucket bounds. */
  buckets?: readonly number[];
  /** A gauge's merge rule (see `GaugeMerge`). */
  merge?: GaugeMerge;
}

/**
 * How a gauge combines across threads: "sum" for a level each thread has its own share of
 * (cache entries), "main" for one the main thread alone keeps (every per-node state, and
 * process-wide values such as build info): the workers' series are ignored.
 */
export type GaugeMerge = "sum" | "main";

interface Series<V> {
  labels: LabelValues;
  value: V;
}

abstract class Metric<V> {
  readonly #series = new Map<string, Series<V>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  abstract readonly type: "counter" | "gauge" | "histogram";
  protected abstract initial(): V;
  protected abstract render(name: string, labels: string, value: V, out: string[]): void;

  protected series(labels: LabelValues): Series<V> {
    const key = labels.length === 1 ? labels[0] : labels.join("\u0000");
    let s = this.#series.get(key);
    if (!s) {
      if (labels.length !== this.labelNames.length) {
        throw new Error(`metric ${this.name}: expected labels ${this.labelNames.join(",")}`);
      }
      s = { labels: [...labels], value: this.initial() };
      this.#series.set(key, s);
    }
    return s;
  }

  /** Every series as plain data, for another thread's /metrics (see merge.ts). */
  snapshot(): MetricSnapshot {
    const series = [...this.#series.values()].map((s) => ({
      labels: s.labels,
      value: structuredClone(s.value) as SeriesValue,
    }));
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      labelNames: this.labelNames,
      series,
      ...this.snapshotExtra(),
    };
  }

  /** What a subclass adds to its snapshot (histogram buckets, gauge merge rule). */
  protected snapshotExtra(): Partial<MetricSnapshot> {
    return {};
  }

  /** Adds a snapshot's series of the same metric into this one. */
  absorb(snapshot: MetricSnapshot, fromMain: boolean): void {
    for (const { labels, value } of snapshot.series) {
      this.absorbValue(this.series(labels).value, value as V, fromMain);
    }
  }

  protected abstract absorbValue(into: V, value: V, fromMain: boolean): void;

  /** Drops every series (e.g. a gauge whose label set changed). */
  reset(): void {
    this.#series.clear();
  }

  /** Appends this metric's exposition lines to `out`. */
  expose(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const s of this.#series.values()) {
      this.render(this.name, formatLabels(this.labelNames, s.labels), s.value, out);
    }
  }
}

/** A monotonically increasing count. */
export class Counter extends Metric<{ n: number }> {
  readonly type = "counter";
  protected initial() {
    return { n: 0 };
  }
  /** Adds `by` (default 1) to the series with these label values. */
  inc(labels: LabelValues = [], by = 1): void {
    this.series(labels).value.n += by;
  }
  /** The current value, for tests and status output. */
  get(labels: LabelValues = []): number {
    return this.series(labels).value.n;
  }
  /**
   * A handle on one series for hot paths: recording through it skips the label lookup. Not
   * for metrics that get `reset()`: a handle keeps its series.
   */
  bind(labels: LabelValues = []): CounterHandle {
    const v = this.series(labels).value;
    return { inc: (by = 1) => void (v.n += by) };
  }
  protected render(name: string, labels: string, v: { n: number }, out: string[]): void {
    out.push(`${name}${labels} ${v.n}`);
  }
  protected absorbValue(into: { n: number }, value: { n: number }): void {
    into.n += value.n;
  }
}

/** One counter series, bound once (see `Counter.bind`). */
export interface CounterHandle {
  inc(by?: number): void;
}

/** One histogram series, bound once (see `Histogram.bind`). */
export interface HistogramHandle {
  observe(value: number): void;
}

/** A value that goes up and down. */
export class Gauge extends Metric<{ n: number }> {
  readonly type = "gauge";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly merge: GaugeMerge = "main",
  ) {
    super(name, help, labelNames);
  }
  protected override snapshotExtra(): Partial<MetricSnapshot> {
    return { merge: this.merge };
  }
  override absorb(snapshot: MetricSnapshot, fromMain: boolean): void {
    if (this.merge === "sum" || fromMain) super.absorb(snapshot, fromMain);
  }
  protected absorbValue(into: { n: number }, value: { n: number }, fromMain: boolean): void {
    if (this.merge === "sum") into.n += value.n;
    else if (fromMain) into.n = value.n;
  }
  protected initial() {
    return { n: 0 };
  }
  /** Sets the series with these label values. */
  set(labels: LabelValues, value: number): void {
    this.series(labels).value.n = value;
  }
  /** Adds `by` (may be negative). */
  add(labels: LabelValues, by: number): void {
    this.series(labels).value.n += by;
  }
  /** The current value. */
  get(labels: LabelValues = []): number {
    return this.series(labels).value.n;
  }
  protected render(name: string, labels: string, v: { n: number }, out: string[]): void {
    out.push(`${name}${labels} ${v.n}`);
  }
}

interface Buckets {
  counts: number[];
  sum: number;
  count: number;
}

/** A distribution over fixed buckets. */
export class Histogram extends Metric<Buckets> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }
  protected initial(): Buckets {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  /** Records one observation. */
  observe(labels: LabelValues, value: number): void {
    observeInto(this.series(labels).value, this.buckets, value);
  }
  /** A handle on one series for hot paths: recording through it skips the label lookup. */
  bind(labels: LabelValues): HistogramHandle {
    const b = this.series(labels).value;
    const bounds = this.buckets;
    return { observe: (value) => observeInto(b, bounds, value) };
  }
  protected override snapshotExtra(): Partial<MetricSnapshot> {
    return { buckets: this.buckets };
  }
  protected absorbValue(into: Buckets, value: Buckets): void {
    value.counts.forEach((c, i) => (into.counts[i] += c));
    into.sum += value.sum;
    into.count += value.count;
  }
  protected render(name: string, labels: string, b: Buckets, out: string[]): void {
    const base = labels === "" ? "" : labels.slice(1, -1) + ",";
    this.buckets.forEach((le, i) => out.push(`${name}_bucket{${base}le="${le}"} ${b.counts[i]}`));
    out.push(`${name}_bucket{${base}le="+Inf"} ${b.count}`);
    out.push(`${name}_sum${labels} ${b.sum}`, `${name}_count${labels} ${b.count}`);
  }
}

function observeInto(b: Buckets, bounds: readonly number[], value: number): void {
  for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]) b.counts[i]++;
  b.sum += value;
  b.count++;
}

function formatLabels(names: readonly string[], values: LabelValues): string {
  if (names.length === 0) return "";
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
  return `{${parts.join(",")}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** A set of metrics, rendered together. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric<unknown>>();

  #add<M extends Metric<unknown>>(metric: M): M {
    const existing = this.#metrics.get(metric.name);
    if (existing) return existing as M;
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** Returns the counter `name`, creating it on first use. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Returns the gauge `name`, creating it on first use (`merge`: see `GaugeMerge`). */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    merge: GaugeMerge = "main",
  ): Gauge {
    return this.#add(new Gauge(name, help, labelNames, merge));
  }

  /** Returns the histogram `name`, creating it on first use. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Every metric as plain data, for another thread's /metrics. */
  snapshot(): MetricSnapshot[] {
    return [...this.#metrics.values()].map((m) => m.snapshot());
  }

  /** Adds the series of `snapshots` into this registry (`fromMain`: see `GaugeMerge`). */
  absorb(snapshots: readonly MetricSnapshot[], fromMain: boolean): void {
    for (const s of snapshots) {
      const metric = s.type === "counter"
        ? this.counter(s.name, s.help, s.labelNames)
        : s.type === "gauge"
        ? this.gauge(s.name, s.help, s.labelNames, s.merge)
        : this.histogram(s.name, s.help, s.labelNames, s.buckets ?? []);
      metric.absorb(s, fromMain);
    }
  }

  /** The whole registry in the Prometheus text format. */
  expose(): string {
    const out: string[] = [];
    for (const m of this.#metrics.values()) m.expose(out);
    return out.join("\n") + "\n";
  }
}

/** The process-wide registry that every plugin records into and /metrics exposes. */
export const metrics = new MetricsRegistry();

/** CoreDNS's duration buckets (seconds), so dashboards' histogram queries work unchanged. */
export const DURATION_BUCKETS: readonly number[] = [
  0.00025,
  0.0005,
  0.001,
  0.002,
  0.004,
  0.008,
  0.016,
  0.032,
  0.064,
  0.128,
  0.256,
  0.512,
  1.024,
  2.048,
  4.096,
  8.192,
];
