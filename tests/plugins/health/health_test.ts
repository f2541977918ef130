import assert from "node:assert/strict";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { freePort } from "../../helpers/ports.ts";
import { apply, get, setupError } from "./_ops.ts";

Deno.test("health setup: bad arguments and properties are refused with FILE:LINE", () => {
  const cases: [string, RegExp][] = [
    ["health :1 :2", /^Corefile:2 - plugin\/health: 'health' takes 0 to 1 argument, got 2$/],
    ["health 8080", /^Corefile:2 - plugin\/health: '8080' is not an address/],
    ["health :8080 {\n lameduck\n }", /^Corefile:3 - plugin\/health: 'lameduck' takes 1 argument/],
    ["health {\n lameduck soon\n }", /^Corefile:3 - plugin\/health: lameduck must be a duration/],
    ["health {\n lameduck 0\n }", /^Corefile:3 - plugin\/health: lameduck must be a positive/],
    ["health {\n interval 1s\n }", /^Corefile:3 - plugin\/health: unknown property 'interval'$/],
  ];
  for (const [directive, want] of cases) {
    assert.match(setupError(`. {\n${directive}\n}`), want);
  }
});

Deno.test("health: /health answers 200 OK on the address; health adds nothing to the chain", async () => {
  const port = freePort();
  const pool = new ResourcePool();
  try {
    const built = await apply(pool, `. {\n health 127.0.0.1:${port}\n whoami\n}`);
    assert.deepEqual(built.plugins.map((p) => p.name), ["whoami"]);
    assert.deepEqual(await get(port, "/health"), {
      status: 200,
      body: "OK",
      type: "text/plain; charset=utf-8",
    });
    assert.equal((await get(port, "/")).status, 404);
  } finally {
    await pool.close();
  }
});

Deno.test("health: two blocks on one address share one listener; a reload keeps serving", async () => {
  const port = freePort();
  const pool = new ResourcePool();
  const two = `a.org {\n health 127.0.0.1:${port}\n}\nb.org {\n health 127.0.0.1:${port}\n}`;
  try {
    await apply(pool, two);
    const keepAlive = await get(port, "/health");
    await apply(pool, `a.org {\n health 127.0.0.1:${port}\n}`);
    assert.deepEqual([keepAlive.status, (await get(port, "/health")).status], [200, 200]);
  } finally {
    await pool.close();
  }
});

Deno.test("health: lameduck keeps /health answering for DURATION before shutting down", async () => {
  const port = freePort();
  const pool = new ResourcePool();
  await apply(pool, `. {\n health 127.0.0.1:${port} {\n lameduck 400ms\n }\n}`);
  const started = performance.now();
  const closing = pool.close();
  try {
    assert.deepEqual((await get(port, "/health")).body, "OK");
  } finally {
    await closing;
  }
  assert.ok(performance.now() - started >= 390, "shutdown waited for the lame duck period");
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`));
});
