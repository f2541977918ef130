import assert from "node:assert/strict";
import type { Acl } from "../../../src/plugins/acl/handler.ts";
import { pluginsOf, setupError } from "./_helpers.ts";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { setupAcl } from "../../../src/plugins/acl/setup.ts";
import type { SetupContext } from "../../../src/plugin/plugin.ts";

Deno.test("acl setup: every malformed line is refused with FILE:LINE, as CoreDNS words it", async () => {
  const cases: [string, RegExp][] = [
    [
      "acl {\n permit net 10.0.0.0/8\n}",
      /^Corefile:3 - plugin\/acl: unexpected token 'permit'; expect 'allow', 'block', 'filter' or 'drop'$/,
    ],
    [
      "acl {\n block from 10.0.0.0/8\n}",
      /^Corefile:3 - plugin\/acl: unexpected token 'from'; expect 'type \| net'$/,
    ],
    ["acl {\n block net\n}", /^Corefile:3 - plugin\/acl: no token specified in 'net' section$/],
    [
      "acl {\n block type net 10.0.0.0/8\n}",
      /^Corefile:3 - plugin\/acl: no token specified in 'type' section$/,
    ],
    [
      "acl {\n block type BOGUS\n}",
      /^Corefile:3 - plugin\/acl: unexpected token 'BOGUS'; expect legal QTYPE$/,
    ],
    [
      "acl {\n block type a\n}",
      /^Corefile:3 - plugin\/acl: unexpected token 'a'; expect legal QTYPE$/,
    ],
    [
      "acl {\n allow\n block net 10.0.0.0/33\n}",
      /^Corefile:4 - plugin\/acl: illegal CIDR notation '10.0.0.0\/33'$/,
    ],
    ["acl {\n block net 10.0.0\n}", /^Corefile:3 - plugin\/acl: illegal CIDR notation '10.0.0'$/],
    [
      "acl {\n block net fe80::1/129\n}",
      /^Corefile:3 - plugin\/acl: illegal CIDR notation 'fe80::1\/129'$/,
    ],
    [
      "acl {\n block net example.org\n}",
      /^Corefile:3 - plugin\/acl: illegal CIDR notation 'example.org'$/,
    ],
    [
      "acl {\n block {\n net 10.0.0.0/8\n }\n}",
      /^Corefile:3 - plugin\/acl: 'block' takes no block$/,
    ],
    ["acl a:b {\n block\n}", /^Corefile:2 - plugin\/acl: 'a:b' is not a valid zone$/],
  ];
  for (const [directive, want] of cases) {
    assert.match(await setupError(`. {\n${directive}\n}`), want, directive);
  }
});

Deno.test("acl setup: zones default to the block's; sections repeat; * and case follow CoreDNS", async () => {
  const [acl] = (await pluginsOf(`example.org {
    acl {
        ALLOW net 10.0.0.1 NET 192.168.0.0/16 type A TYPE AAAA
        filter type * MX
        Drop net * 10.0.0.0/33
        block
    }
}`)) as Acl[];
  assert.equal(acl.name, "acl");
  const [rule] = acl.rules;
  assert.deepEqual(rule.zones, ["example.org."]);
  const [allow, filter, drop, block] = rule.policies;
  assert.equal(allow.action, "allow");
  assert.deepEqual([...allow.qtypes!], ["A", "AAAA"]);
  assert.equal(filter.action, "filter");
  assert.equal(filter.qtypes, null, "type * matches every type; what follows * is ignored");
  assert.equal(drop.action, "drop");
  assert.equal(block.qtypes, null);
});

Deno.test("acl setup: several acl directives make one plugin with their rules in order", async () => {
  const plugins = await pluginsOf(`. {
    acl a.example.org {
        block net 192.168.1.0/24
    }
    log
    acl 10.0.0.0/8 {
        allow
    }
}`);
  assert.deepEqual(plugins.map((p) => p.name), ["log", "acl"]);
  const acl = plugins[1] as Acl;
  assert.deepEqual(acl.rules.map((r) => r.zones), [["a.example.org."], ["10.in-addr.arpa."]]);
});

Deno.test("acl setup: building the same block again (a second config) makes a fresh plugin", () => {
  const block = parseCorefile(". {\n acl {\n block\n }\n}", { file: "Corefile" }).blocks[0];
  const ctx = (readiness: object) =>
    ({ keys: block.keys, zones: ["."], readiness }) as unknown as SetupContext;
  const first = setupAcl(block.directives[0], ctx({})) as Acl;
  const second = setupAcl(block.directives[0], ctx({})) as Acl;
  assert.ok(first && second && first !== second);
  assert.equal(second.rules.length, 1);
});
