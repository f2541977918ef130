import assert from "node:assert/strict";
import { type DnsMessage, Rcode, replyTo } from "../../../src/dns/message.ts";
import { metrics } from "../../../src/metrics/registry.ts";
import { PrometheusPlugin } from "../../../src/plugins/prometheus/handler.ts";
import { compose } from "../../../src/server/chain.ts";
import { type Proto, QueryContext } from "../../../src/plugin/query.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { queryMessage } from "../../helpers/query.ts";
import { freePort } from "../../helpers/ports.ts";
import { apply, get, setupError } from "../health/_ops.ts";
import { parsePrometheus, samplesOf, sampleSum } from "./_parse.ts";

Deno.test("prometheus setup: bad arguments and properties are refused with FILE:LINE", () => {
  assert.match(
    setupError(". {\n prometheus :1 :2\n}"),
    /^Corefile:2 - plugin\/prometheus: 'prometheus' takes 0 to 1/,
  );
  assert.match(
    setupError(". {\n prometheus 9153\n}"),
    /^Corefile:2 - plugin\/prometheus: '9153' is not an address/,
  );
  assert.match(
    setupError(". {\n prometheus {\n tls web.yml\n }\n}"),
    /^Corefile:3 - plugin\/prometheus: unknown property 'tls'$/,
  );
  assert.match(
    setupError(". {\n prometheus\n prometheus\n}"),
    /^Corefile:3 - plugin\/prometheus: this plugin can only be used once per server block$/,
  );
});

/** Runs one query through prometheus and a plugin that answers with `rcode`, then "sends" it. */
async function query(
  server: string,
  opts: { type?: string; proto?: Proto; remote?: string; rcode?: number; do?: boolean } = {},
): Promise<void> {
  const answer = {
    name: "answer",
    handle(q: QueryContext): number | void {
      if (opts.rcode !== undefined) return opts.rcode;
      q.write(replyTo(q.request));
    },
  };
  const chain = compose([new PrometheusPlugin(), answer]);
  const request = queryMessage("www.example.org", opts.type ?? "A", { edns: 1232, do: opts.do });
  const remote = { transport: "udp" as const, hostname: opts.remote ?? "127.0.0.1", port: 5000 };
  const local = { transport: "udp" as const, hostname: "127.0.0.1", port: 53 };
  const q = new QueryContext(
    request,
    44,
    opts.proto ?? "udp",
    remote,
    local,
    "example.org.",
    server,
  );
  const result = await chain(q);
  const reply: DnsMessage = q.response ?? replyTo(request, result as number);
  q.sent(reply, 99, opts.rcode ?? Rcode.NOERROR);
}

Deno.test("prometheus: counts queries under CoreDNS's names and labels", async () => {
  const server = "dns://127.0.0.1:10001";
  await query(server);
  await query(server, { proto: "tcp" });
  await query(server, { type: "NAPTR", remote: "::1", do: true });
  await query(server, { rcode: Rcode.SERVFAIL });
  const s = parsePrometheus(metrics.expose());
  const mine = { server, zone: "example.org.", view: "" };

  assert.equal(sampleSum(s, "coredns_dns_requests_total", mine), 4);
  assert.equal(
    sampleSum(s, "coredns_dns_requests_total", { ...mine, proto: "udp", family: "1", type: "A" }),
    2,
  );
  assert.equal(sampleSum(s, "coredns_dns_requests_total", { ...mine, proto: "tcp", type: "A" }), 1);
  assert.equal(
    sampleSum(s, "coredns_dns_requests_total", { ...mine, family: "2", type: "other" }),
    1,
  );
  assert.equal(sampleSum(s, "coredns_dns_do_requests_total", mine), 1);
  // The plugin that wrote the reply is named; an rcode the server turned into a reply has "".
  assert.equal(
    sampleSum(s, "coredns_dns_responses_total", { ...mine, rcode: "NOERROR", plugin: "answer" }),
    3,
  );
  assert.equal(
    sampleSum(s, "coredns_dns_responses_total", { ...mine, rcode: "SERVFAIL", plugin: "" }),
    1,
  );
  assert.equal(sampleSum(s, "coredns_dns_request_duration_seconds_count", mine), 4);
  assert.equal(
    sampleSum(s, "coredns_dns_request_duration_seconds_bucket", { ...mine, type: "A", le: "+Inf" }),
    3,
  );
  assert.equal(
    sampleSum(s, "coredns_dns_request_size_bytes_sum", { ...mine, proto: "udp" }),
    44 * 3,
  );
  assert.equal(sampleSum(s, "coredns_dns_response_size_bytes_count", { ...mine, proto: "tcp" }), 1);
  assert.equal(
    sampleSum(s, "coredns_dns_response_size_bytes_bucket", { ...mine, proto: "udp", le: "100" }),
    3,
  );
  assert.equal(s.types.get("coredns_dns_request_duration_seconds"), "histogram");
  assert.equal(s.types.get("coredns_dns_requests_total"), "counter");
});

Deno.test("prometheus: /metrics serves the text format; plugin_enabled follows reloads", async () => {
  const port = freePort();
  const pool = new ResourcePool();
  const block = (plugins: string) =>
    `example.net:10002 {\n prometheus 127.0.0.1:${port}\n ${plugins}\n}`;
  const enabled = (s: ReturnType<typeof parsePrometheus>, name: string) =>
    sampleSum(s, "coredns_plugin_enabled", { server: "dns://:10002", zone: "example.net.", name });
  try {
    await apply(pool, block("whoami"));
    const res = await get(port, "/metrics");
    assert.equal(res.status, 200);
    assert.equal(res.type, "text/plain; version=0.0.4; charset=utf-8");
    let s = parsePrometheus(res.body);
    assert.deepEqual([enabled(s, "prometheus"), enabled(s, "whoami"), enabled(s, "log")], [
      1,
      1,
      0,
    ]);
    const build = samplesOf(s, "coredns_build_info");
    assert.equal(build.length, 1);
    assert.match(build[0].labels.goversion, /^deno\d/);
    assert.ok(sampleSum(s, "process_resident_memory_bytes") > 0);
    assert.ok(sampleSum(s, "process_start_time_seconds") > 1.6e9);

    await apply(pool, block("log"));
    s = parsePrometheus((await get(port, "/metrics")).body);
    assert.deepEqual([enabled(s, "prometheus"), enabled(s, "whoami"), enabled(s, "log")], [
      1,
      0,
      1,
    ]);
  } finally {
    await pool.close();
  }
});
