import assert from "node:assert/strict";
import type { Directive } from "../../src/corefile/types.ts";
import { HttpListener, parseHttpAddress, useHttpRoute } from "../../src/plugin/http.ts";
import { ResourcePool } from "../../src/plugin/resources.ts";
import { freePort } from "../helpers/ports.ts";

const AT: Directive = { name: "health", args: [], block: null, file: "Corefile", line: 3 };

Deno.test("parseHttpAddress: HOST:PORT, [IPv6]:PORT and :PORT, as Go's SplitHostPort", () => {
  assert.deepEqual(parseHttpAddress(":8080", AT, "health"), {
    host: "",
    port: 8080,
    text: ":8080",
  });
  assert.deepEqual(parseHttpAddress("localhost:9153", AT, "x"), {
    host: "localhost",
    port: 9153,
    text: "localhost:9153",
  });
  assert.deepEqual(parseHttpAddress("[::1]:8181", AT, "x"), {
    host: "::1",
    port: 8181,
    text: "[::1]:8181",
  });
  for (const bad of ["8080", "localhost", "::1:80", "[::1]", "host:http", "host:70000", ""]) {
    assert.throws(
      () => parseHttpAddress(bad, AT, "health"),
      /Corefile:3 - plugin\/health: .*(address|above)/,
      `'${bad}' should be refused`,
    );
  }
});

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

Deno.test("useHttpRoute: paths share one listener per address; a reload drops an unused path", async () => {
  const port = freePort();
  const address = parseHttpAddress(`127.0.0.1:${port}`, AT, "health");
  const pool = new ResourcePool();
  try {
    let r = pool.begin();
    const a = useHttpRoute(r, "health", address, "/a", () => new Response("A"));
    const b = useHttpRoute(r, "ready", address, "/b", () => new Response("B"));
    assert.equal(a, b);
    await pool.start();
    await pool.commit();
    assert.deepEqual(await get(port, "/a"), { status: 200, body: "A" });
    assert.deepEqual(await get(port, "/b?x=1"), { status: 200, body: "B" });
    assert.equal((await get(port, "/c")).status, 404);

    // The next config keeps /a (same listener, same socket) and drops /b.
    r = pool.begin();
    assert.equal(useHttpRoute(r, "health", address, "/a", () => new Response("new")), a);
    await pool.start();
    await pool.commit();
    assert.deepEqual(await get(port, "/a"), { status: 200, body: "A" });
    assert.equal((await get(port, "/b")).status, 404);
  } finally {
    await pool.close();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/a`));
});

Deno.test("HttpListener: a taken port fails start with the plugin and the address", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const listener = new HttpListener(parseHttpAddress(`127.0.0.1:${port}`, AT, "x"), "prometheus");
  try {
    await assert.rejects(
      listener.start(),
      new RegExp(`^Error: plugin/prometheus: cannot listen on 127\\.0\\.0\\.1:${port}: .*in use`),
    );
  } finally {
    taken.close();
    await listener.close();
  }
});
