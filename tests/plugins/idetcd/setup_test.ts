import assert from "node:assert/strict";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import type { Directive } from "../../../src/corefile/types.ts";
import { parseIdetcd, setupIdetcd } from "../../../src/plugins/idetcd/setup.ts";
import { Pattern } from "../../../src/plugins/idetcd/pattern.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { ReadinessRegistry } from "../../../src/plugin/readiness.ts";
import { pluginLogger } from "../../../src/util/log.ts";

/** The idetcd directive of a one-block Corefile whose idetcd block holds `body`. */
function directive(body: string, zone = "."): Directive {
  const text = `${zone}:1053 {\n    idetcd {\n${body}\n    }\n}\n`;
  const parsed = parseCorefile(text, { file: "Corefile" });
  return parsed.blocks[0].directives.find((d) => d.name === "idetcd")!;
}

Deno.test("pattern: render, printf width, reverse matching, domain", () => {
  const p = Pattern.parse("worker{{.ID}}.tf.local.");
  assert.equal(p.render(3), "worker3.tf.local.");
  assert.equal(p.idOf("worker3.tf.local."), 3);
  assert.equal(p.idOf("WORKER12.TF.LOCAL."), 12);
  assert.equal(p.idOf("worker03.tf.local."), null, "not the canonical rendering");
  assert.equal(p.idOf("worker0.tf.local."), null);
  assert.equal(p.idOf("workerx.tf.local."), null);
  assert.equal(p.idOf("worker3.tf.local.evil."), null);
  assert.equal(p.domain, "tf.local.");
  assert.equal(p.literalPrefix, "worker");

  const w = Pattern.parse('node-{{printf "%02d" .ID}}.dc1.example.');
  assert.equal(w.render(7), "node-07.dc1.example.");
  assert.equal(w.render(123), "node-123.dc1.example.");
  assert.equal(w.idOf("node-07.dc1.example."), 7);
  assert.equal(w.idOf("node-7.dc1.example."), null);
  // As the Corefile lexer hands it over: the quotes gone, split at spaces, joined again.
  assert.equal(Pattern.parse("n{{printf %03d .ID}}.x.").render(5), "n005.x.");

  const bare = Pattern.parse("{{.ID}}.nodes");
  assert.equal(bare.idOf("4.nodes."), 4);
  assert.equal(bare.domain, "nodes.");
});

Deno.test("pattern: refusals", () => {
  assert.throws(() => Pattern.parse("worker.tf.local."), /has no \{\{\.ID\}\}/);
  assert.throws(() => Pattern.parse("w{{.Name}}.x."), /action '\{\{\.Name\}\}' is not supported/);
  assert.throws(() => Pattern.parse('w{{printf "%5d" .ID}}.x.'), /space padding/);
  assert.throws(() => Pattern.parse("w{.ID}.x."), /has no \{\{\.ID\}\}/);
  assert.throws(() => Pattern.parse("w{{.ID}}}.x."), /stray/);
  assert.match(Pattern.parse("w{{.ID}}.x y.").checkNames(1)!, /characters a host name cannot have/);
});

Deno.test("setup: the seed example and defaults", () => {
  const c = parseIdetcd(
    directive(
      "        endpoint http://127.0.0.1:2379\n        limit 5\n        pattern worker{{.ID}}.tf.local.",
    ),
    ["."],
  );
  assert.deepEqual(c.etcd.endpoints, ["http://127.0.0.1:2379"]);
  assert.equal(c.limit, 5);
  assert.equal(c.pattern.source, "worker{{.ID}}.tf.local.");
  assert.equal(c.leaseSeconds, 20);
  assert.equal(c.ttl, 10);
  assert.equal(c.onFull, "fail");
  assert.equal(c.address, null);
  assert.equal(c.prefix, "");
  const d = parseIdetcd(directive("        pattern w{{.ID}}.x."), ["."]);
  assert.deepEqual(d.etcd.endpoints, ["http://localhost:2379"]);
  assert.equal(d.limit, 10);
});

Deno.test("setup: every property", () => {
  const c = parseIdetcd(
    directive(
      [
        "endpoint http://a:2379 http://b:2379",
        "limit 30",
        'pattern w{{printf "%02d" .ID}}.tf.local.',
        "lease 3s",
        "ttl 30",
        "address 10.0.0.1 fd00::1",
        "node_id rack7-host3",
        "prefix /idetcd/",
        "on_full wait",
        "srv _etcd-server._tcp 2380",
        "srv _etcd-client._tcp 2379",
        "credentials root secret",
        "tls cert.pem key.pem ca.pem",
        "timeout 2s",
        "fallthrough",
      ].map((l) => `        ${l}`).join("\n"),
    ),
    ["."],
  );
  assert.equal(c.limit, 30);
  assert.equal(c.leaseSeconds, 3);
  assert.equal(c.ttl, 30);
  assert.deepEqual(c.address, { ipv4: "10.0.0.1", ipv6: "fd00::1" });
  assert.equal(c.nodeId, "rack7-host3");
  assert.equal(c.prefix, "/idetcd");
  assert.equal(c.onFull, "wait");
  assert.deepEqual(c.srv, [
    { owner: "_etcd-server._tcp.tf.local.", port: 2380 },
    { owner: "_etcd-client._tcp.tf.local.", port: 2379 },
  ]);
  assert.equal(c.etcd.username, "root");
  assert.deepEqual(c.etcd.tls, { cert: "cert.pem", key: "key.pem", ca: "ca.pem" });
  assert.equal(c.etcd.timeoutMs, 2000);
  assert.equal(c.fallthrough.covers("anything."), true);
});

Deno.test("setup: errors carry FILE:LINE of the offending line", () => {
  const cases: [string, RegExp][] = [
    [
      "        limit many\n        pattern w{{.ID}}.x.",
      /^Corefile:3 - plugin\/idetcd: limit must be a whole number, got 'many'/,
    ],
    [
      "        limit 0\n        pattern w{{.ID}}.x.",
      /^Corefile:3 - plugin\/idetcd: limit must be between 1 and 100000, got 0/,
    ],
    [
      "        limit 5\n        pattern worker.tf.local.",
      /^Corefile:4 - plugin\/idetcd: pattern 'worker.tf.local.' has no \{\{\.ID\}\}/,
    ],
    [
      "        pattern w{{.ID}}.x.\n        colour blue",
      /^Corefile:4 - plugin\/idetcd: unknown property 'colour'/,
    ],
    ["        limit 5", /^Corefile:2 - plugin\/idetcd: missing 'pattern'/],
    [
      "        pattern w{{.ID}}.x.\n        on_full explode",
      /^Corefile:4 - plugin\/idetcd: on_full must be 'fail' or 'wait'/,
    ],
    [
      "        pattern w{{.ID}}.x.\n        lease 500ms",
      /^Corefile:4 - plugin\/idetcd: lease must be at least 1s/,
    ],
    [
      "        pattern w{{.ID}}.x.\n        address 10.0.0.1 10.0.0.2",
      /at most one IPv4 and one IPv6/,
    ],
    ["        pattern w{{.ID}}.x.\n        address banana", /'banana' is not an IP address/],
    [
      "        pattern w{{.ID}}.x.\n        srv etcd 2380",
      /srv service must look like _etcd-server._tcp/,
    ],
    [
      "        pattern w{{.ID}}.x.\n        srv _etcd-server._tcp 99999",
      /srv port must be between 1 and 65535/,
    ],
    [
      "        pattern w{{.ID}}.x.\n        endpoint ftp://x",
      /^Corefile:4 - plugin\/idetcd: endpoint 'ftp:\/\/x' has scheme 'ftp'/,
    ],
  ];
  for (const [body, re] of cases) {
    assert.throws(() => parseIdetcd(directive(body), ["."]), (err: Error) => {
      assert.match(err.message, re);
      return true;
    });
  }
  // A pattern outside the block's zones.
  assert.throws(
    () =>
      parseIdetcd(directive("        pattern w{{.ID}}.tf.local.", "example.org"), ["example.org."]),
    /Corefile:3 - plugin\/idetcd: pattern names such as 'w1.tf.local.' are outside the zones/,
  );
});

Deno.test("setup opens nothing and shares resources by config", async () => {
  const pool = new ResourcePool();
  const resources = pool.begin();
  const readiness = new ReadinessRegistry();
  const ctx = {
    keys: [{ transport: "dns" as const, zone: ".", port: 1053, raw: ".:1053" }],
    zones: ["."],
    corefilePath: "Corefile",
    resources,
    readiness,
    log: pluginLogger("idetcd"),
    bind: () => {},
  };
  const d = directive("        pattern w{{.ID}}.x.\n        endpoint http://127.0.0.1:1");
  const plugin = setupIdetcd(d, ctx);
  assert.equal(plugin?.name, "idetcd");
  assert.deepEqual(readiness.notReady(), ["idetcd"]);
  await pool.abort();
});
