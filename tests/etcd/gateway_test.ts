import assert from "node:assert/strict";
import { explainEtcdError } from "../../src/etcd/client.ts";
import { EtcdClient } from "../../src/etcd/gateway.ts";
import { defaultEtcdOptions } from "../../src/etcd/options.ts";
import { startEtcd } from "../helpers/etcd.ts";
import { freePort } from "../helpers/ports.ts";

/** One call to the gateway with plain fetch (for the admin calls EtcdClient does not make). */
async function admin(endpoint: string, path: string, body: object): Promise<void> {
  const res = await fetch(`${endpoint}${path}`, { method: "POST", body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text}`);
}

Deno.test("EtcdClient: moves on from an unreachable endpoint and stays on the one that answers", async () => {
  const etcd = await startEtcd();
  const dead = `http://127.0.0.1:${freePort()}`;
  const client = new EtcdClient({ endpoints: [dead, etcd.endpoint], timeoutMs: 2000 });
  try {
    await client.put({ key: "k", value: "v" });
    assert.equal(client.currentEndpoint, etcd.endpoint);
    assert.equal((await client.range({ key: "k" })).kvs[0].value.toString(), "v");
    const alone = new EtcdClient({ endpoints: [dead], timeoutMs: 2000 });
    const err = await alone.range({ key: "k" }).catch((e) => e);
    alone.close();
    assert.match(String(err), /unavailable: .*Connection refused/);
    assert.match(
      explainEtcdError(err, { ...defaultEtcdOptions(), endpoints: [dead] }),
      /is unreachable .*check that etcd runs there/,
    );
  } finally {
    client.close();
    await etcd.close();
  }
});

Deno.test("EtcdClient: authenticates, again when the token expired, and passes on etcd's refusals", async () => {
  // Simple tokens that expire after one idle second.
  const etcd = await startEtcd({ args: ["--auth-token-ttl=1"] });
  const opts = { ...defaultEtcdOptions(), endpoints: [etcd.endpoint], timeoutMs: 2000 };
  const clients: EtcdClient[] = [];
  const clientAs = (username?: string, password?: string) => {
    const c = new EtcdClient({ ...opts, username, password });
    clients.push(c);
    return c;
  };
  try {
    await admin(etcd.endpoint, "/v3/auth/user/add", { name: "root", password: "pw" });
    await admin(etcd.endpoint, "/v3/auth/role/add", { name: "root" });
    await admin(etcd.endpoint, "/v3/auth/user/grant", { user: "root", role: "root" });
    await admin(etcd.endpoint, "/v3/auth/enable", {});

    let authentications = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      if (String(input).endsWith("/v3/auth/authenticate")) authentications++;
      return realFetch(input, init);
    };
    try {
      const root = clientAs("root", "pw");
      await root.put({ key: "k", value: "v" });
      await root.put({ key: "k", value: "v" });
      assert.equal(authentications, 1, "one token serves many calls");
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal((await root.range({ key: "k" })).kvs[0].value.toString(), "v");
      assert.equal(authentications, 2, "the expired token was renewed");
      // A watch opened with an expired token is cancelled, not refused; the next one renews it.
      await new Promise((r) => setTimeout(r, 2500));
      const firstMessage = async () => {
        const stream = await root.watch({ key: "k" });
        for await (const res of stream.responses) {
          stream.cancel();
          return res;
        }
        throw new Error("the watch ended without a message");
      };
      const cancelled = await firstMessage();
      assert.equal(cancelled.canceled, true);
      assert.match(cancelled.cancel_reason, /invalid auth token/);
      const created = await firstMessage();
      assert.equal(created.created && !created.canceled, true, JSON.stringify(created));
      assert.equal(authentications, 3);
    } finally {
      globalThis.fetch = realFetch;
    }

    const wrong = await clientAs("root", "nope").range({ key: "k" }).catch((e) => e);
    assert.match(String(wrong), /authentication failed/);
    assert.match(explainEtcdError(wrong, opts), /refused the request .*check the credentials/);
    const anonymous = await clientAs().range({ key: "k" }).catch((e) => e);
    assert.match(String(anonymous), /user name is empty|permission denied|token/);
  } finally {
    for (const c of clients) c.close();
    await etcd.close();
  }
});

Deno.test("EtcdClient: a frozen etcd is a deadline error; close() ends calls and watches", async () => {
  const etcd = await startEtcd();
  const client = new EtcdClient({ endpoints: [etcd.endpoint], timeoutMs: 500 });
  try {
    const stream = await client.watch({ key: "w" });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const res of stream.responses) {
        for (const e of res.events) seen.push(e.kv.value.toString());
      }
    })();
    await client.put({ key: "w", value: "1" });
    await etcd.pause();
    const started = Date.now();
    const err = await client.range({ key: "w" }).catch((e) => e);
    assert.match(String(err), /deadline exceeded: no answer within 500 ms/);
    assert.ok(Date.now() - started < 1500, `gave up after ${Date.now() - started} ms`);
    const watchErr = await client.watch({ key: "other" }).catch((e) => e);
    assert.match(String(watchErr), /deadline exceeded/, "opening a watch has a deadline too");
    const pending = client.range({ key: "w" }).catch((e) => e);
    client.close();
    assert.match(String(await pending), /closed/);
    await reading;
    assert.deepEqual(seen, ["1"]);
  } finally {
    etcd.resume();
    client.close();
    await etcd.close();
  }
});

Deno.test("EtcdClient: leases, transactions and a large value through the gateway", async () => {
  const etcd = await startEtcd();
  const client = new EtcdClient({ endpoints: [etcd.endpoint], timeoutMs: 5000 });
  try {
    const lease = await client.leaseGrant(30);
    assert.equal(lease.TTL, "30");
    await client.put({ key: "held", value: "x", lease: lease.ID });
    const ttl = await client.leaseTimeToLive(lease.ID, true);
    assert.deepEqual(ttl.keys.map(String), ["held"]);
    assert.equal((await client.leaseKeepAlive(lease.ID)).TTL, "30");
    await client.leaseRevoke(lease.ID);
    assert.equal((await client.leaseKeepAlive(lease.ID)).TTL, "0", "a lease etcd lost is TTL 0");
    assert.equal((await client.range({ key: "held" })).kvs.length, 0);

    const claim = () =>
      client.txn({
        compare: [{ key: "slot", target: "CREATE", result: "EQUAL", create_revision: 0 }],
        success: [{ request_put: { key: "slot", value: "me" } }],
        failure: [{ request_range: { key: "slot" } }],
      });
    assert.equal((await claim()).succeeded, true);
    const lost = await claim();
    assert.equal(lost.succeeded, false);
    assert.equal(lost.responses[0].response_range?.kvs[0].value.toString(), "me");

    // A hosts file of about 1 MiB: one value, read and watched whole.
    const big = "10.0.0.1 host.example\n".repeat(48_000);
    const stream = await client.watch({ key: "big" });
    await client.put({ key: "big", value: big });
    assert.equal((await client.range({ key: "big" })).kvs[0].value.length, big.length);
    for await (const res of stream.responses) {
      if (res.events.length === 0) continue;
      assert.equal(res.events[0].kv.value.toString(), big);
      break;
    }
    stream.cancel();
  } finally {
    client.close();
    await etcd.close();
  }
});
