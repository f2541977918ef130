/**
 * The server-wide DNS metrics, under CoreDNS's names and labels so that CoreDNS dashboards and
 * alerts work unchanged. Other plugins define their own (coredns_cache_*, coredns_forward_*,
 * etcdns_*) in the same process-wide registry; /metrics exposes them all.
 */
import process from "node:process";
import { DURATION_BUCKETS, metrics } from "../../metrics/registry.ts";
import { VERSION } from "../../version.ts";

/** CoreDNS's size buckets (bytes) for request and response sizes. */
export const SIZE_BUCKETS: readonly number[] = [
  0,
  100,
  200,
  300,
  400,
  511,
  1023,
  2047,
  4095,
  8291,
  16000,
  32000,
  48000,
  64000,
];

/** Queries per server, zone, transport, address family and type. */
export const requestCount = metrics.counter(
  "coredns_dns_requests_total",
  "Counter of DNS requests made per zone, protocol and family.",
  ["server", "zone", "view", "proto", "family", "type"],
);

/** Queries with the DNSSEC OK bit. */
export const requestDo = metrics.counter(
  "coredns_dns_do_requests_total",
  "Counter of DNS requests with DO bit set per zone.",
  ["server", "zone", "view"],
);

/** Time from reading the query to encoding the reply. */
export const requestDuration = metrics.histogram(
  "coredns_dns_request_duration_seconds",
  "Histogram of the time (in seconds) each request took per zone.",
  ["server", "zone", "view", "type"],
  DURATION_BUCKETS,
);

/** Query sizes on the wire. */
export const requestSize = metrics.histogram(
  "coredns_dns_request_size_bytes",
  "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
  ["server", "zone", "view", "proto"],
  SIZE_BUCKETS,
);

/** Reply sizes on the wire. */
export const responseSize = metrics.histogram(
  "coredns_dns_response_size_bytes",
  "Size of the returned response in bytes.",
  ["server", "zone", "view", "proto"],
  SIZE_BUCKETS,
);

/** Replies per rcode and the plugin that wrote them ("" when the server did). */
export const responseCount = metrics.counter(
  "coredns_dns_responses_total",
  "Counter of response status codes.",
  ["server", "zone", "view", "rcode", "plugin"],
);

/** 1 for every plugin in a server block's chain. */
export const pluginEnabled = metrics.gauge(
  "coredns_plugin_enabled",
  "A metric that indicates whether a plugin is enabled on per server and zone basis.",
  ["server", "zone", "view", "name"],
);

/** Always 1; the labels say what is running. `goversion` carries the Deno version here. */
export const buildInfo = metrics.gauge(
  "coredns_build_info",
  "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
  ["version", "revision", "goversion"],
);
buildInfo.set([VERSION, "", `deno${Deno.version.deno}`], 1);

const residentMemory = metrics.gauge(
  "process_resident_memory_bytes",
  "Resident memory size in bytes.",
);
const startTime = metrics.gauge(
  "process_start_time_seconds",
  "Start time of the process since unix epoch in seconds.",
);
const cpuSeconds = metrics.counter(
  "process_cpu_seconds_total",
  "Total user and system CPU time spent in seconds.",
);
const heapUsed = metrics.gauge(
  "etcdns_heap_used_bytes",
  "JavaScript heap in use, in bytes.",
);
startTime.set([], Math.round((Date.now() - performance.now()) / 1000));

/** Refreshes the process metrics; called per scrape, since they are read, not counted. */
export function updateProcessMetrics(): void {
  const mem = Deno.memoryUsage();
  residentMemory.set([], mem.rss);
  heapUsed.set([], mem.heapUsed);
  const cpu = process.cpuUsage();
  const total = (cpu.user + cpu.system) / 1e6;
  cpuSeconds.inc([], Math.max(0, total - cpuSeconds.get()));
}
