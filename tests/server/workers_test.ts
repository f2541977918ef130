import assert from "node:assert/strict";
import { WorkerGroup } from "../../src/server/workers.ts";

Deno.test("workers: a thread that dies is reported, fails its requests and /ready", async () => {
  const died = Promise.withResolvers<string>();
  const group = new WorkerGroup(
    new URL("./_crashing_worker.ts", import.meta.url),
    2,
    "",
    new SharedArrayBuffer(32),
    (message) => died.resolve(message),
  );
  try {
    assert.equal(group.serving, true);
    await assert.rejects(group.prepare([]), /worker 1.*boom/);
    assert.match(await died.promise, /^worker 1 died: .*boom/);
    assert.equal(group.serving, false);
    await assert.rejects(group.prepare([]), /worker 1 died/);
  } finally {
    await group.stop();
  }
});
