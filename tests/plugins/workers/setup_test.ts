import assert from "node:assert/strict";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { PLUGINS } from "../../../src/plugins/registry.ts";
import { buildConfig } from "../../../src/server/config.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { chooseWorkers } from "../../../src/server/worker_count.ts";
import { DEFAULT_COALESCE_US } from "../../../src/net/udp_listen.ts";

// buildConfig sets up loaded plugins only; these tests build many Corefiles.
await PLUGINS.loadAll();

/** Builds a config (opens nothing); returns the worker count and the listeners it asks for. */
function build(
  corefile: string,
  worker = false,
): { workers: number | null; coalesceUs: number; spread: string; listeners: string[] } {
  const { blocks } = parseCorefile(corefile, { directives: PLUGINS.names });
  const built = buildConfig(blocks, {
    plugins: PLUGINS,
    corefilePath: "Corefile",
    resources: new ResourcePool(worker).begin(),
  });
  const listeners = [...built.routers.keys()].map((l) =>
    `${l.tls ? "tls" : l.options.udpOnly ? "udp" : "dns"} ${l.hostname}:${l.port}`
  );
  const { coalesceUs, spread } = built.udp;
  return { workers: built.workers, coalesceUs, spread, listeners };
}

Deno.test("workers: setup", async (t) => {
  await t.step("workers N sets the process-wide count; absent, none is set", () => {
    assert.equal(build(".:1053 {\n workers 2\n whoami\n}\n").workers, 2);
    assert.equal(build(".:1053 {\n whoami\n}\n").workers, null);
    // Any block may say it; repeating the same count is fine.
    const two = ".:1053 {\n workers 4\n whoami\n}\nexample.org:1054 {\n workers 4\n whoami\n}\n";
    assert.equal(build(two).workers, 4);
    assert.equal(build(".:1053 {\n whoami\n}\nexample.org:1054 {\n workers 3\n}\n").workers, 3);
  });

  await t.step("coalesce sets the UDP window for the whole process; absent, the default", () => {
    assert.equal(build(".:1053 {\n whoami\n}\n").coalesceUs, DEFAULT_COALESCE_US);
    const off = build(".:1053 {\n workers {\n coalesce off\n }\n whoami\n}\n");
    assert.deepEqual([off.workers, off.coalesceUs], [null, 0]);
    const both = build(".:1053 {\n workers 3 {\n coalesce 250us\n }\n}\n");
    assert.deepEqual([both.workers, both.coalesceUs], [3, 250]);
    assert.equal(build(".:1053 {\n workers {\n coalesce 0.5ms\n }\n}\n").coalesceUs, 500);
    // One block sets the count, another the window: both hold.
    const split = ".:1053 {\n workers 2\n}\nexample.org:1054 {\n workers {\n coalesce 0\n }\n}\n";
    assert.deepEqual([build(split).workers, build(split).coalesceUs], [2, 0]);
  });

  await t.step("spread chooses how threads share UDP for the whole process; default auto", () => {
    assert.equal(build(".:1053 {\n whoami\n}\n").spread, "auto");
    const always = build(".:1053 {\n workers 2 {\n spread always\n coalesce off\n }\n}\n");
    assert.deepEqual([always.workers, always.spread, always.coalesceUs], [2, "always", 0]);
    assert.equal(build(".:1053 {\n workers {\n spread auto\n }\n}\n").spread, "auto");
  });

  await t.step("errors name FILE:LINE and what to write", () => {
    const cases: Array<[string, RegExp]> = [
      [".:1053 {\n workers\n}\n", /Corefile:2 - plugin\/workers: 'workers' needs a count, a block/],
      [".:1053 {\n workers 2 3\n}\n", /Corefile:2 - plugin\/workers: 'workers' takes 0 to 1 arg/],
      [".:1053 {\n workers two\n}\n", /Corefile:2 - .*must be a whole number, got 'two'/],
      [".:1053 {\n workers 0\n}\n", /Corefile:2 - .*between 1 and 256, got 0/],
      [".:1053 {\n workers 2 {\n x\n }\n}\n", /Corefile:3 - plugin\/workers: unknown property 'x'/],
      [".:1053 {\n workers {\n coalesce\n }\n}\n", /Corefile:3 - .*'coalesce' takes 1 arg/],
      [".:1053 {\n workers {\n coalesce 5\n }\n}\n", /Corefile:3 - .*duration such as/],
      [".:1053 {\n workers {\n coalesce 2ms\n }\n}\n", /Corefile:3 - .*at most 1ms.*'2ms'/],
      [
        ".:1053 {\n workers {\n spread even\n }\n}\n",
        /Corefile:3 - .*'auto' or 'always', got 'even'/,
      ],
      [".:1053 {\n workers {\n spread\n }\n}\n", /Corefile:3 - .*'spread' takes 1 arg/],
      [
        ".:1053 {\n workers {\n spread always\n }\n}\nexample.org:1054 {\n workers {\n spread auto\n }\n}\n",
        /Corefile:7 - plugin\/workers: spread auto here, but spread always at Corefile:2; the spreading is process-wide/,
      ],
      [
        ".:1053 {\n workers {\n coalesce 50us\n }\n}\nexample.org:1054 {\n workers 2 {\n coalesce off\n }\n}\n",
        /Corefile:7 - plugin\/workers: coalesce off here, but coalesce 50us at Corefile:2; the window is process-wide/,
      ],
      [
        ".:1053 {\n workers 2\n}\nexample.org:1054 {\n workers 3\n}\n",
        /Corefile:5 - plugin\/workers: 3 workers here, but 2 workers at Corefile:2; the count is process-wide/,
      ],
    ];
    for (const [corefile, expected] of cases) {
      assert.throws(() => build(corefile), expected, corefile);
    }
  });

  await t.step("a worker thread's config listens on UDP only, and not for DNS over TLS", () => {
    const corefile = ".:1053 {\n bind 127.0.0.1\n workers 2\n whoami\n}\n";
    assert.deepEqual(build(corefile).listeners, ["dns 127.0.0.1:1053"]);
    assert.deepEqual(build(corefile, true).listeners, ["udp 127.0.0.1:1053"]);
  });
});

Deno.test("workers: the count", async (t) => {
  const native = null;
  const none = "no libc FFI";
  await t.step("absent: one per core where the native socket works, else one", () => {
    assert.deepEqual(chooseWorkers(null, native, 8), { count: 8, warning: null, info: null });
    const fallback = chooseWorkers(null, none, 8);
    assert.equal(fallback.count, 1);
    assert.equal(fallback.warning, null);
    assert.match(fallback.info!, /one thread on Deno's UDP socket: no libc FFI/);
    assert.deepEqual(chooseWorkers(null, native, 1), { count: 1, warning: null, info: null });
  });
  await t.step("explicit: honoured where it can be, else a warning and one", () => {
    assert.deepEqual(chooseWorkers(3, native, 2), { count: 3, warning: null, info: null });
    assert.deepEqual(chooseWorkers(1, none, 8), { count: 1, warning: null, info: null });
    const refused = chooseWorkers(2, none, 8);
    assert.equal(refused.count, 1);
    assert.match(
      refused.warning!,
      /^plugin\/workers: 2 workers need .* no libc FFI; serving with one/,
    );
  });
  await t.step("port 0 cannot be shared between threads", () => {
    assert.equal(chooseWorkers(null, native, 4, true).count, 1);
    assert.match(chooseWorkers(2, native, 4, true).warning!, /port 0/);
  });
});
