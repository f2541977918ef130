import assert from "node:assert/strict";
import type { Forward } from "../../../src/plugins/forward/handler.ts";
import { setupForward } from "../../../src/plugins/forward/setup.ts";
import { setUp, setupError } from "./_helpers.ts";

async function configOf(corefile: string) {
  const h = await setUp(setupForward, corefile, "forward");
  await h.close();
  return (h.plugins[0] as Forward).config;
}

Deno.test("forward setup: defaults are CoreDNS's", async () => {
  const c = await configOf(". {\n forward . 127.0.0.1\n}");
  assert.deepEqual(c, {
    from: ".",
    except: [],
    to: [{ hostname: "127.0.0.1", port: 53, tls: false }],
    forceTcp: false,
    preferUdp: false,
    expireMs: 10_000,
    maxFails: 2,
    policy: "random",
    healthCheckMs: 500,
    healthCheckDomain: ".",
    healthCheckRecursionDesired: true,
    maxConcurrent: 0,
    maxIdleConns: 0,
  });
});

Deno.test("forward setup: every option and address form", async () => {
  const c = await configOf(`. {
    forward Example.ORG dns://127.0.0.1:5300 [::1]:5301 ::1 dns://[::1] 127.0.0.2 {
        except a.example.org B.example.org
        force_tcp
        expire 20s
        max_fails 0
        policy round_robin
        health_check 0.2s no_rec domain example.net
        max_concurrent 1000
    }
}`);
  assert.equal(c.from, "example.org.");
  assert.deepEqual(c.except, ["a.example.org.", "b.example.org."]);
  assert.deepEqual(c.to, [
    { hostname: "127.0.0.1", port: 5300, tls: false },
    { hostname: "::1", port: 5301, tls: false },
    { hostname: "::1", port: 53, tls: false },
    { hostname: "::1", port: 53, tls: false },
    { hostname: "127.0.0.2", port: 53, tls: false },
  ]);
  assert.equal(c.forceTcp, true);
  assert.equal(c.expireMs, 20_000);
  assert.equal(c.maxFails, 0);
  assert.equal(c.policy, "round_robin");
  assert.equal(c.healthCheckMs, 200);
  assert.equal(c.healthCheckRecursionDesired, false);
  assert.equal(c.healthCheckDomain, "example.net.");
  assert.equal(c.maxConcurrent, 1000);
});

Deno.test("forward setup: a resolv.conf file lists the upstreams", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/resolv.conf`,
      "# comment\nsearch example.org\nnameserver 127.0.0.53\nnameserver ::1\n",
    );
    const c = await configOf(`. {\n forward . ${dir}/resolv.conf\n}`);
    assert.deepEqual(c.to, [
      { hostname: "127.0.0.53", port: 53, tls: false },
      { hostname: "::1", port: 53, tls: false },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("forward setup: tls:// upstreams, tls, tls_servername, max_idle_conns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, "CA PEM");
    const c = await configOf(`. {
    forward . tls://127.0.0.1 tls://127.0.0.2:8853 tls://[::1%dns.example]:8853 {
        tls ${dir}/ca.pem
        max_idle_conns 4
        max_connect_attempts 3
    }
}`);
    assert.deepEqual(c.to, [
      { hostname: "127.0.0.1", port: 853, tls: true },
      { hostname: "127.0.0.2", port: 8853, tls: true },
      { hostname: "::1", port: 8853, tls: true, serverName: "dns.example" },
    ]);
    assert.deepEqual(c.tls, { ca: "CA PEM" });
    assert.equal(c.maxIdleConns, 4);
    assert.equal(c.maxConnectAttempts, 3);
    const named = await configOf(
      ". {\n forward . tls://9.9.9.9 {\n tls_servername dns.quad9.net\n }\n}",
    );
    assert.equal(named.tlsServerName, "dns.quad9.net");
    assert.deepEqual(named.to, [{ hostname: "9.9.9.9", port: 853, tls: true }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("forward setup: force_tcp wins over prefer_udp", async () => {
  const c = await configOf(". {\n forward . 127.0.0.1 {\n prefer_udp\n force_tcp\n }\n}");
  assert.equal(c.forceTcp, true);
  assert.equal(c.preferUdp, false);
});

Deno.test("forward setup: the same upstreams share one pool (kept across a reload)", async () => {
  const h = await setUp(
    setupForward,
    ". {\n forward a.test 127.0.0.1:5300\n forward . 127.0.0.1:5300\n forward . 127.0.0.1:5301\n}",
    "forward",
  );
  const [a, b, c] = h.plugins as Forward[];
  assert.equal(a.pool, b.pool);
  assert.notEqual(a.pool, c.pool);
  await h.close();
});

Deno.test("forward setup: errors name the file, line and what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["forward .", /Corefile:2 - plugin\/forward: 'forward' takes at least 2 arguments, got 1/],
    ["forward . https://9.9.9.9", /https:\/\/ is not supported/],
    ["forward . tls://9.9.9.9%:853", /empty TLS server name/],
    [
      "forward . tls://9.9.9.9%dns.quad9.net {\n tls_servername other\n }",
      /both forward \('other'\) and upstream level \('dns.quad9.net'\) TLS server names/,
    ],
    ["forward . tls://9.9.9.9 {\n tls /nonexistent/ca.pem\n }", /cannot read the CA file/],
    ["forward . 127.0.0.1 {\n max_connect_attempts -1\n }", /max_connect_attempts must be/],
    ["forward . 127.0.0.1 {\n max_idle_conns x\n }", /max_idle_conns must be/],
    ["forward . dns.example.org", /'dns.example.org' is not an upstream: use IP, IP:PORT/],
    ["forward . 127.0.0.1:99999", /the port of '127.0.0.1:99999' must be between 1 and 65535/],
    ["forward . 300.1.1.1", /'300.1.1.1' is not an upstream/],
    [
      "forward . " + Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`).join(" "),
      /more than 15 upstreams configured: 16/,
    ],
    ["forward . 127.0.0.1 {\n policy fastest\n }", /Corefile:3 - .*unknown policy 'fastest'/],
    ["forward . 127.0.0.1 {\n max_fails -1\n }", /max_fails must be between 0 and/],
    ["forward . 127.0.0.1 {\n max_fails\n }", /'max_fails' takes 1 argument, got 0/],
    ["forward . 127.0.0.1 {\n expire soon\n }", /expire must be a duration/],
    ["forward . 127.0.0.1 {\n health_check 1s fast\n }", /health_check: unknown option 'fast'/],
    ["forward . 127.0.0.1 {\n except\n }", /'except' takes at least 1 argument/],
    ["forward . 127.0.0.1 {\n force_tcp yes\n }", /'force_tcp' takes 0 arguments, got 1/],
    ["forward . 127.0.0.1 {\n doh_method GET\n }", /'doh_method' is not supported/],
    ["forward . 127.0.0.1 {\n bogus\n }", /unknown property 'bogus'/],
  ];
  for (const [directive, want] of cases) {
    const msg = setupError(setupForward, `. {\n${directive}\n}`, "forward");
    assert.match(msg, want, directive);
  }
});
