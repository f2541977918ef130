import assert from "node:assert/strict";
import type { Cache } from "../../../src/plugins/cache/handler.ts";
import { setupCache } from "../../../src/plugins/cache/setup.ts";
import { setUp, setupError } from "../forward/_helpers.ts";

async function configOf(corefile: string) {
  const h = await setUp(setupCache, corefile, "cache");
  await h.close();
  return (h.plugins[0] as Cache).config;
}

Deno.test("cache setup: defaults are CoreDNS's", async () => {
  assert.deepEqual(await configOf("example.org {\n cache\n}"), {
    zones: ["example.org."],
    success: { capacity: 10_000, maxTtl: 3600, minTtl: 5 },
    denial: { capacity: 10_000, maxTtl: 1800, minTtl: 5 },
    servfailTtl: 5,
    prefetchAmount: 0,
    prefetchGapMs: 60_000,
    prefetchPercentage: 10,
    staleSeconds: 0,
    staleVerify: false,
  });
});

Deno.test("cache setup: TTL, zones and every property", async () => {
  const c = await configOf(`. {
    cache 30 Example.ORG 10.0.0.0/8 {
        success 4096
        denial 100 60 10
        prefetch 5 30s 20%
        serve_stale 10m verified
        servfail 2s
    }
}`);
  assert.deepEqual(c.zones, ["example.org.", "10.in-addr.arpa."]);
  assert.deepEqual(c.success, { capacity: 4096, maxTtl: 30, minTtl: 5 });
  assert.deepEqual(c.denial, { capacity: 100, maxTtl: 60, minTtl: 10 });
  assert.equal(c.prefetchAmount, 5);
  assert.equal(c.prefetchGapMs, 30_000);
  assert.equal(c.prefetchPercentage, 20);
  assert.equal(c.staleSeconds, 600);
  assert.equal(c.staleVerify, true);
  assert.equal(c.servfailTtl, 2);
  assert.equal((await configOf(". {\n cache {\n serve_stale\n }\n}")).staleSeconds, 3600);
});

Deno.test("cache setup: errors name the file, line and what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["cache 0", /Corefile:2 - plugin\/cache: the cache TTL must be between 1 and/],
    ["cache -5", /the cache TTL must be between 1 and/],
    [
      "cache {\n success\n }",
      /Corefile:3 - plugin\/cache: 'success' takes 1 to 3 arguments, got 0/,
    ],
    ["cache {\n success lots\n }", /success capacity must be a whole number, got 'lots'/],
    ["cache {\n denial 10 0\n }", /denial TTL must be between 1 and/],
    ["cache {\n success 10 30 60\n }", /success minimum TTL 60 is above its TTL 30/],
    ["cache {\n prefetch 2 1m 5%\n }", /prefetch percentage must be between 10 and 90, got 5/],
    ["cache {\n prefetch 2 1m 50\n }", /prefetch percentage must end with '%'/],
    ["cache {\n serve_stale 1h later\n }", /refresh mode must be immediate or verified/],
    ["cache {\n servfail 10m\n }", /servfail may be at most 5m/],
    ["cache {\n keepttl\n }", /unknown property 'keepttl'/],
  ];
  for (const [directive, want] of cases) {
    assert.match(setupError(setupCache, `. {\n${directive}\n}`, "cache"), want, directive);
  }
});
