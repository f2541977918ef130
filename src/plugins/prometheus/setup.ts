/** `prometheus [ADDRESS]` */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, unknownProperty } from "../../corefile/args.ts";
import { parseHttpAddress, useHttpRoute } from "../../plugin/http.ts";
import { metricsHandler, PluginEnabled, PrometheusPlugin } from "./handler.ts";

/** Where /metrics listens when no address is given (CoreDNS's default). */
export const DEFAULT_METRICS_ADDRESS = "localhost:9153";

let configs = 0;

/** Sets up prometheus: per-query metrics for this block, and /metrics on ADDRESS. */
export const setupPrometheus: Setup = (d, ctx) => {
  expectArgs(d, "prometheus", 0, 1);
  // CoreDNS's runtime_metrics and tls are Go-specific or not supported here: refuse them clearly.
  for (const p of d.block ?? []) unknownProperty(p, "prometheus");
  const address = parseHttpAddress(d.args[0] ?? DEFAULT_METRICS_ADDRESS, d, "prometheus");
  useHttpRoute(ctx.resources, "prometheus", address, "/metrics", metricsHandler);
  const summary = ctx.summary;
  if (summary) {
    // A fresh key per setup: each config reports its own blocks, counted in and out (see
    // PluginEnabled).
    ctx.resources.perNode(
      `prometheus|enabled|${++configs}`,
      () => new PluginEnabled(ctx.zones, summary),
    );
  }
  return new PrometheusPlugin();
};
