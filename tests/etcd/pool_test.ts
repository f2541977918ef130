import assert from "node:assert/strict";
import type { EtcdClient } from "../../src/etcd/gateway.ts";
import { EtcdPool } from "../../src/etcd/pool.ts";
import { defaultEtcdOptions, type EtcdOptions } from "../../src/etcd/options.ts";

/** A stand-in client that counts how often it is closed (the pool only builds and closes). */
function fakeClient(closed: { n: number }): EtcdClient {
  return { close: () => closed.n++ } as unknown as EtcdClient;
}

Deno.test("etcd pool: equal settings share one client, closed by the last release", async () => {
  const closed = { n: 0 };
  let built = 0;
  const pool = new EtcdPool(() => {
    built++;
    return Promise.resolve(fakeClient(closed));
  });
  const a = await pool.acquire(defaultEtcdOptions());
  const b = await pool.acquire(defaultEtcdOptions());
  const other = await pool.acquire({ ...defaultEtcdOptions(), timeoutMs: 1 });
  assert.equal(a.client, b.client);
  assert.notEqual(a.client, other.client);
  assert.equal(built, 2);
  assert.equal(pool.size, 2);
  a.release();
  a.release(); // a second release of the same handle does nothing
  assert.equal(closed.n, 0);
  b.release();
  assert.equal(closed.n, 1);
  other.release();
  assert.equal(closed.n, 2);
  assert.equal(pool.size, 0);
  // Released settings build a fresh client on the next acquire.
  (await pool.acquire(defaultEtcdOptions())).release();
  assert.equal(built, 3);
});

Deno.test("etcd pool: a failed build rejects its callers and is tried again next time", async () => {
  let fail = true;
  const pool = new EtcdPool((_opts: EtcdOptions) =>
    fail ? Promise.reject(new Error("no SRV records")) : Promise.resolve(fakeClient({ n: 0 }))
  );
  await assert.rejects(pool.acquire(defaultEtcdOptions()), /no SRV records/);
  assert.equal(pool.size, 0);
  fail = false;
  const h = await pool.acquire(defaultEtcdOptions());
  h.release();
});
