import assert from "node:assert/strict";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { PLUGINS } from "../../../src/plugins/registry.ts";
import { buildConfig } from "../../../src/server/config.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";

// buildConfig sets up loaded plugins only; these tests build many Corefiles.
await PLUGINS.loadAll();

/** The bufsize of each zone's route, from a Corefile, without opening anything. */
function sizes(corefile: string): Record<string, number | undefined> {
  const { blocks } = parseCorefile(corefile, { directives: PLUGINS.names });
  const { routers } = buildConfig(blocks, {
    plugins: PLUGINS,
    corefilePath: "Corefile",
    resources: new ResourcePool().begin(),
  });
  const out: Record<string, number | undefined> = {};
  for (const router of routers.values()) {
    for (const zone of router.zones) out[zone] = router.match(zone)?.bufsize;
  }
  return out;
}

Deno.test("bufsize: SIZE reaches the block's routes; without it the default applies", () => {
  assert.deepEqual(
    sizes(
      "a.example:1053 b.example:1053 {\n bufsize 1000\n whoami\n}\nc.example:1053 {\n whoami\n}\n",
    ),
    { "a.example.": 1000, "b.example.": 1000, "c.example.": undefined },
  );
  assert.deepEqual(sizes(".:1053 {\n bufsize\n whoami\n}\n"), { ".": 1232 });
  assert.deepEqual(sizes(".:1053 {\n bufsize 512\n}\n"), { ".": 512 });
  assert.deepEqual(sizes(".:1053 {\n bufsize 4096\n}\n"), { ".": 4096 });
});

Deno.test("bufsize: bad arguments are Corefile errors naming the line", () => {
  const cases: Array<[string, RegExp]> = [
    ["bufsize 511", /Corefile:2 .*between 512 and 4096, got 511/],
    ["bufsize 4097", /between 512 and 4096, got 4097/],
    ["bufsize 65535", /between 512 and 4096/],
    ["bufsize big", /whole number, got 'big'/],
    ["bufsize 1000 2000", /takes 0 to 1 argument, got 2/],
    ["bufsize 1000 {\n x\n }", /takes no block/],
  ];
  for (const [line, want] of cases) {
    assert.throws(() => sizes(`.:1053 {\n ${line}\n whoami\n}\n`), want, line);
  }
  assert.throws(() => sizes(".:1053 {\n bufsize 600\n bufsize 700\n}\n"), /only be used once/);
});

Deno.test("bufsize sits where CoreDNS's plugin.cfg puts it: after reload, before bind", () => {
  assert.equal(PLUGINS.position("bufsize") - 1, PLUGINS.position("reload"));
  assert.equal(PLUGINS.position("bufsize") + 1, PLUGINS.position("bind"));
});
