import assert from "node:assert/strict";
import {
  activeReadiness,
  ReadinessRegistry,
  setActiveReadiness,
} from "../../../src/plugin/readiness.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { freePort } from "../../helpers/ports.ts";
import { apply, get, setupError } from "../health/_ops.ts";

Deno.test("ready setup: bad arguments are refused with FILE:LINE", () => {
  assert.match(
    setupError(". {\n ready :1 :2\n}"),
    /^Corefile:2 - plugin\/ready: 'ready' takes 0 to 1/,
  );
  assert.match(
    setupError(". {\n ready localhost\n}"),
    /^Corefile:2 - plugin\/ready: 'localhost' is not/,
  );
  assert.match(
    setupError(". {\n ready {\n monitor x\n }\n}"),
    /^Corefile:2 - plugin\/ready: 'ready' takes no block$/,
  );
  assert.match(
    setupError(`a.org {\n ready 127.0.0.1:1\n ready 127.0.0.1:2\n}`),
    /^Corefile:3 - plugin\/ready: this plugin can only be used once per server block$/,
  );
});

Deno.test("ready: 503 names the plugins not ready (sorted, comma-separated), then 200 OK", async () => {
  const port = freePort();
  const pool = new ResourcePool();
  const previous = activeReadiness();
  const state = { idetcd: false, etcdhosts: false };
  const registry = new ReadinessRegistry();
  registry.register({ name: "idetcd", ready: () => state.idetcd });
  registry.register({ name: "etcdhosts", ready: () => state.etcdhosts });
  registry.register({ name: "whoami", ready: () => true });
  try {
    await apply(pool, `a.org {\n ready 127.0.0.1:${port}\n}\nb.org {\n ready 127.0.0.1:${port}\n}`);
    setActiveReadiness(registry);
    assert.deepEqual(await get(port, "/ready"), {
      status: 503,
      body: "etcdhosts,idetcd",
      type: "text/plain; charset=utf-8",
    });
    state.etcdhosts = true;
    assert.deepEqual((await get(port, "/ready")).body, "idetcd");
    state.idetcd = true;
    assert.deepEqual(await get(port, "/ready"), {
      status: 200,
      body: "OK",
      type: "text/plain; charset=utf-8",
    });
    // Checks are asked on every request, so a plugin that loses readiness shows again.
    state.idetcd = false;
    assert.equal((await get(port, "/ready")).status, 503);
  } finally {
    setActiveReadiness(previous);
    await pool.close();
  }
});

Deno.test("ready: answers 503 'Shutting down' once shutdown begins (e.g. during lameduck)", async () => {
  const port = freePort();
  const pool = new ResourcePool();
  await apply(
    pool,
    `. {\n ready 127.0.0.1:${port}\n health 127.0.0.1:${port} {\n lameduck 300ms\n }\n}`,
  );
  assert.equal((await get(port, "/ready")).status, 200);
  const closing = pool.close();
  try {
    assert.deepEqual((await get(port, "/ready")).body, "Shutting down");
    assert.equal((await get(port, "/health")).status, 200);
  } finally {
    await closing;
  }
});
