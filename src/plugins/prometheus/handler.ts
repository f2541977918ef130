/**
 * prometheus: records every query of its server block once the reply is sent, and serves
 * /metrics in the Prometheus text format.
 */
import { type DnsMessage, RCODE_NAMES } from "../../dns/message.ts";
import { type CounterHandle, type HistogramHandle } from "../../metrics/registry.ts";
import { exposeAllThreads } from "../../metrics/threads.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { Resource } from "../../plugin/resources.ts";
import type { BlockSummary, Next, Plugin } from "../../plugin/plugin.ts";
import {
  pluginEnabled,
  requestCount,
  requestDo,
  requestDuration,
  requestSize,
  responseCount,
  responseSize,
  updateProcessMetrics,
} from "./metrics.ts";

/** The query types CoreDNS counts by name; every other type is counted as "other". */
const MONITORED_TYPES: ReadonlySet<string> = new Set([
  "A",
  "AAAA",
  "CNAME",
  "DNSKEY",
  "DS",
  "MX",
  "NSEC3",
  "NSEC",
  "NS",
  "PTR",
  "RRSIG",
  "SOA",
  "SRV",
  "TXT",
  "HTTPS",
  "IXFR",
  "AXFR",
  "ANY",
]);

/** The `view` label: etcdns has no view plugin, so it is always empty, as in CoreDNS without one. */
const VIEW = "";

/** An rcode's name as CoreDNS's rcode.ToString writes it. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** The series one server and zone records into, each bound on first use (as CoreDNS shows them). */
class ZoneSeries {
  /** Indexed by `(type * 2 + family) * 2 + proto`. */
  readonly #requests: (CounterHandle | undefined)[] = [];
  /** Indexed by type. */
  readonly #durations: (HistogramHandle | undefined)[] = [];
  /** Indexed by proto. */
  readonly #requestSizes: (HistogramHandle | undefined)[] = [];
  readonly #responseSizes: (HistogramHandle | undefined)[] = [];
  /** By writer plugin, then rcode. */
  readonly #responses = new Map<string, (CounterHandle | undefined)[]>();
  #do: CounterHandle | undefined;

  constructor(readonly server: string, readonly zone: string) {}

  do(): CounterHandle {
    return this.#do ??= requestDo.bind([this.server, this.zone, VIEW]);
  }

  requestSize(proto: number): HistogramHandle {
    return this.#requestSizes[proto] ??= requestSize.bind([
      this.server,
      this.zone,
      VIEW,
      PROTOS[proto],
    ]);
  }

  responseSize(proto: number): HistogramHandle {
    return this.#responseSizes[proto] ??= responseSize.bind([
      this.server,
      this.zone,
      VIEW,
      PROTOS[proto],
    ]);
  }

  request(type: number, family: number, proto: number): CounterHandle {
    const i = (type * 2 + family) * 2 + proto;
    return this.#requests[i] ??= requestCount.bind([
      this.server,
      this.zone,
      VIEW,
      PROTOS[proto],
      FAMILIES[family],
      TYPES[type],
    ]);
  }

  duration(type: number): HistogramHandle {
    return this.#durations[type] ??= requestDuration.bind([
      this.server,
      this.zone,
      VIEW,
      TYPES[type],
    ]);
  }

  response(rcode: number, writer: string): CounterHandle {
    let byRcode = this.#responses.get(writer);
    if (byRcode === undefined) this.#responses.set(writer, byRcode = []);
    return byRcode[rcode] ??= responseCount.bind([
      this.server,
      this.zone,
      VIEW,
      rcodeName(rcode),
      writer,
    ]);
  }
}

const PROTOS = ["udp", "tcp"] as const;
const FAMILIES = ["1", "2"] as const;
const TYPES: readonly string[] = [...MONITORED_TYPES, "other"];
const TYPE_INDEX: ReadonlyMap<string, number> = new Map(TYPES.map((t, i) => [t, i]));
const OTHER = TYPES.length - 1;

/**
 * Records CoreDNS's per-query metrics for one server block (CoreDNS's vars.Report). Series
 * handles are bound once per label set, so a query costs a few map reads and additions.
 */
export class PrometheusPlugin implements Plugin {
  readonly name = "prometheus";
  readonly #series = new Map<string, Map<string, ZoneSeries>>();
  readonly #sent = (q: QueryContext, _reply: DnsMessage, size: number, rcode: number) =>
    this.#record(q, size, rcode);

  handle(q: QueryContext, next: Next) {
    q.onSent(this.#sent);
    return next();
  }

  #record(q: QueryContext, size: number, rcode: number): void {
    let byZone = this.#series.get(q.server);
    if (byZone === undefined) this.#series.set(q.server, byZone = new Map());
    let z = byZone.get(q.zone);
    if (z === undefined) byZone.set(q.zone, z = new ZoneSeries(q.server, q.zone));

    const type = TYPE_INDEX.get(q.qtype) ?? OTHER;
    const family = q.remote.hostname.includes(":") ? 1 : 0;
    const proto = q.proto === "udp" ? 0 : 1;
    z.request(type, family, proto).inc();
    if (q.do) z.do().inc();
    z.duration(type).observe(q.durationMs / 1000);
    z.requestSize(proto).observe(q.requestSize);
    z.responseSize(proto).observe(size);
    z.response(rcode, q.writer).inc();
  }
}

/**
 * The /metrics handler: everything every plugin recorded, in every thread, in the text format
 * (0.0.4).
 */
export async function metricsHandler(): Promise<Response> {
  updateProcessMetrics();
  return new Response(await exposeAllThreads(), {
    status: 200,
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}

/** How many running configs report each plugin_enabled series; 0 sets the gauge back to 0. */
const enabledUsers = new Map<string, { labels: string[]; users: number }>();

/**
 * Sets coredns_plugin_enabled for one server block while its config runs. The labels are read
 * at start, when the block is fully set up. A reload starts the new config's before it closes
 * the old one's, so a series both configs report never drops to 0 in between.
 */
export class PluginEnabled implements Resource {
  #keys: string[] | null = null;

  constructor(readonly zones: readonly string[], readonly summary: () => BlockSummary) {}

  start(): Promise<void> {
    const { plugins, servers } = this.summary();
    const keys: string[] = [];
    for (const server of servers) {
      for (const zone of this.zones) {
        for (const name of plugins) {
          const labels = [server, zone, VIEW, name];
          const key = labels.join("\u0000");
          const entry = enabledUsers.get(key) ?? { labels, users: 0 };
          entry.users++;
          enabledUsers.set(key, entry);
          pluginEnabled.set(labels, 1);
          keys.push(key);
        }
      }
    }
    this.#keys = keys;
    return Promise.resolve();
  }

  close(): Promise<void> {
    for (const key of this.#keys ?? []) {
      const entry = enabledUsers.get(key);
      if (!entry) continue;
      if (--entry.users === 0) {
        enabledUsers.delete(key);
        pluginEnabled.set(entry.labels, 0);
      }
    }
    this.#keys = null;
    return Promise.resolve();
  }
}
