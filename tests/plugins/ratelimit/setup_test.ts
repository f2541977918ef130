import assert from "node:assert/strict";
import type { Ratelimit } from "../../../src/plugins/ratelimit/handler.ts";
import { parseAddress } from "../../../src/plugin/netset.ts";
import { pluginsOf, setupError } from "../acl/_helpers.ts";

async function configOf(corefile: string) {
  return ((await pluginsOf(corefile))[0] as Ratelimit).config;
}

Deno.test("ratelimit setup: defaults", async () => {
  const c = await configOf("example.org {\n ratelimit\n}");
  assert.deepEqual(
    { ...c, allow: c.allow.empty },
    {
      zones: ["example.org."],
      rate: 50,
      burst: 50,
      ipv4Prefix: 32,
      ipv6Prefix: 56,
      action: "refuse",
      allow: true,
      maxClients: 10_000,
    },
  );
});

Deno.test("ratelimit setup: every property; allow accumulates; burst defaults to rate", async () => {
  const c = await configOf(`. {
    ratelimit example.org {
        rate 20
        ipv4_prefix 24
        ipv6_prefix 64
        action drop
        allow 127.0.0.0/8 ::1
        allow 10.0.0.5
        max_clients 100
    }
}`);
  assert.equal(c.rate, 20);
  assert.equal(c.burst, 20);
  assert.equal(c.ipv4Prefix, 24);
  assert.equal(c.ipv6Prefix, 64);
  assert.equal(c.action, "drop");
  assert.equal(c.maxClients, 100);
  assert.deepEqual(c.zones, ["example.org."]);
  for (const a of ["127.1.2.3", "::1", "10.0.0.5"]) assert.ok(c.allow.has(parseAddress(a)!), a);
  assert.ok(!c.allow.has(parseAddress("10.0.0.6")!));
  assert.equal((await configOf(". {\n ratelimit {\n rate 5\n burst 40\n }\n}")).burst, 40);
});

Deno.test("ratelimit setup: bad values are refused with FILE:LINE", async () => {
  const cases: [string, RegExp][] = [
    ["rate", /^Corefile:4 - plugin\/ratelimit: 'rate' takes 1 argument, got 0$/],
    ["rate 0", /^Corefile:4 - plugin\/ratelimit: rate must be between 1 and 1000000, got 0$/],
    ["rate fast", /^Corefile:4 - plugin\/ratelimit: rate must be a whole number, got 'fast'$/],
    ["burst -1", /^Corefile:4 - plugin\/ratelimit: burst must be between 1 and 1000000, got -1$/],
    ["ipv4_prefix 33", /^Corefile:4 - plugin\/ratelimit: ipv4_prefix must be between 1 and 32/],
    ["ipv6_prefix 129", /^Corefile:4 - plugin\/ratelimit: ipv6_prefix must be between 1 and 128/],
    [
      "action reject",
      /^Corefile:4 - plugin\/ratelimit: action must be refuse or drop, got 'reject'$/,
    ],
    ["allow", /^Corefile:4 - plugin\/ratelimit: 'allow' takes at least 1 argument/],
    [
      "allow 10.0.0.0/8 nowhere",
      /^Corefile:4 - plugin\/ratelimit: 'nowhere' is not an IP address or CIDR/,
    ],
    ["max_clients 0", /^Corefile:4 - plugin\/ratelimit: max_clients must be between 1 and/],
    ["rate 5\n rate 6", /^Corefile:5 - plugin\/ratelimit: 'rate' is given twice$/],
    ["window 1s", /^Corefile:4 - plugin\/ratelimit: unknown property 'window'$/],
    ["rate 5 {\n }", /^Corefile:4 - plugin\/ratelimit: 'rate' takes no block$/],
  ];
  for (const [line, want] of cases) {
    assert.match(await setupError(`. {\n ratelimit {\n\n ${line}\n }\n}`), want, line);
  }
  assert.match(
    await setupError(". {\n ratelimit\n ratelimit\n}"),
    /^Corefile:3 - plugin\/ratelimit: this plugin can only be used once per server block$/,
  );
});
