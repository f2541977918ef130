import assert from "node:assert/strict";
import type { Directive } from "../../../src/corefile/types.ts";
import { CorefileWatcher, hashFiles, reloadFailed } from "../../../src/plugins/reload/handler.ts";
import { parseReload } from "../../../src/plugins/reload/setup.ts";
import { configActivated, onReloadRequest } from "../../../src/plugin/lifecycle.ts";
import { pluginLogger } from "../../../src/util/log.ts";
import { waitFor } from "../../helpers/wait.ts";
import { setupError } from "../health/_ops.ts";

const AT: Directive = { name: "reload", args: [], block: null, file: "Corefile", line: 2 };

Deno.test("reload setup: CoreDNS's defaults, minimums and jitter cap", () => {
  assert.deepEqual(parseReload([], AT), { intervalMs: 30_000, jitterMs: 15_000 });
  assert.deepEqual(parseReload(["10s"], AT), { intervalMs: 10_000, jitterMs: 5_000 });
  assert.deepEqual(parseReload(["1m", "2s"], AT), { intervalMs: 60_000, jitterMs: 2_000 });
  assert.deepEqual(parseReload(["2s", "1s"], AT), { intervalMs: 2_000, jitterMs: 1_000 });
  const cases: [string, RegExp][] = [
    ["reload 1s", /^Corefile:2 - plugin\/reload: interval must be at least 2s, got '1s'$/],
    ["reload 10s 500ms", /^Corefile:2 - plugin\/reload: jitter must be at least 1s, got '500ms'$/],
    ["reload soon", /^Corefile:2 - plugin\/reload: interval must be a duration/],
    ["reload 10s 2s 1s", /^Corefile:2 - plugin\/reload: 'reload' takes 0 to 2 arguments, got 3$/],
    ["reload {\n 10s\n }", /^Corefile:2 - plugin\/reload: 'reload' takes no block$/],
  ];
  for (const [directive, want] of cases) assert.match(setupError(`. {\n${directive}\n}`), want);
});

Deno.test("reload: hashFiles covers every file's path and content; a missing file hashes too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-reload-" });
  try {
    const a = `${dir}/Corefile`;
    const b = `${dir}/imported`;
    await Deno.writeTextFile(a, ". {\n whoami\n}\n");
    await Deno.writeTextFile(b, "log\n");
    const first = await hashFiles([a, b]);
    assert.match(first, /^[0-9a-f]{128}$/);
    assert.equal(await hashFiles([a, b]), first);
    await Deno.writeTextFile(b, "log \n");
    assert.notEqual(await hashFiles([a, b]), first);
    await Deno.remove(b);
    const missing = await hashFiles([a, b]);
    assert.equal(await hashFiles([a, b]), missing);
    assert.notEqual(missing, first);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reload: a change asks for one reload; a failure is counted and not retried", async () => {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-reload-" });
  const corefile = `${dir}/Corefile`;
  await Deno.writeTextFile(corefile, "one");
  // The minimum of 2s is the setup's rule; the watcher itself runs at any period.
  const watcher = new CorefileWatcher({ intervalMs: 30, jitterMs: 0 }, pluginLogger("reload"));
  const requests: string[] = [];
  let succeed = false;
  onReloadRequest((reason) => {
    requests.push(reason);
    if (succeed) configActivated({ files: [corefile] });
    return Promise.resolve(succeed);
  });
  const failedBefore = reloadFailed.get();
  try {
    await watcher.start();
    configActivated({ files: [corefile] });

    await Deno.writeTextFile(corefile, "two, broken");
    await waitFor("a reload request", () => requests.length === 1);
    await waitFor("the failure counted", () => reloadFailed.get() === failedBefore + 1);
    // The same broken content is not tried again: a later change is the next request.
    const checks = watcher.checks;
    await waitFor("three more checks", () => watcher.checks >= checks + 3);
    assert.equal(requests.length, 1);
    succeed = true;
    await Deno.writeTextFile(corefile, "three");
    await waitFor("a second reload request", () => requests.length === 2);
    assert.equal(reloadFailed.get(), failedBefore + 1);
    await Deno.writeTextFile(corefile, "four");
    await waitFor("a third reload request", () => requests.length === 3);
    assert.equal(reloadFailed.get(), failedBefore + 1);
  } finally {
    onReloadRequest(null);
    await watcher.close();
    await Deno.remove(dir, { recursive: true });
  }
});
