/**
 * etcd restarting gracefully under a running node, five times. With the gRPC client of the first
 * version each stop's HTTP/2 GOAWAY could crash the node inside Deno's node:http2
 * (denoland/deno#36788); through etcd's JSON gateway (HTTP/1.1) a stop just ends the connections.
 * The node must survive every restart and serve what etcd holds afterwards. The test runner
 * itself writes through the gateway with plain fetch.
 */
import assert from "node:assert/strict";
import { digShort } from "../helpers/dig.ts";
import { startEtcd } from "../helpers/etcd.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { PATTERN } from "../helpers/idetcd.ts";
import { waitFor } from "../helpers/wait.ts";

const RESTARTS = 5;

/** A put through etcd's JSON gateway, with nothing of ours in between. */
async function put(endpoint: string, key: string, value: string): Promise<void> {
  const res = await fetch(`${endpoint}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({ key: btoa(key), value: btoa(value) }),
  });
  await res.text();
  if (!res.ok) throw new Error(`put ${key}: HTTP ${res.status}`);
}

Deno.test("etcd restarts 5 times (SIGTERM) under a running node; the node survives and serves", async () => {
  const etcd = await startEtcd();
  await put(etcd.endpoint, "/etcdhosts", "10.0.0.0 web.cluster.test\n");
  const node = await startEtcdns({
    timeoutMs: 30_000,
    corefile: `.:{PORT} {
    idetcd {
        endpoint ${etcd.endpoint}
        limit 5
        lease 2
        pattern ${PATTERN}
        address 127.0.3.1
    }
    etcdhosts . {
        key /etcdhosts
        timeout 1s
        endpoint ${etcd.endpoint}
    }
}
`,
  });
  const web = async () => (await digShort(node.port, "web.cluster.test", "A")).join(",");
  try {
    await waitFor("loaded", async () => (await web()) === "10.0.0.0", 15_000);
    for (let i = 1; i <= RESTARTS; i++) {
      await etcd.stop("SIGTERM");
      assert.equal(node.exited, null, `the node is alive after etcd stop #${i}`);
      await etcd.start();
      await put(etcd.endpoint, "/etcdhosts", `10.0.0.${i} web.cluster.test\n`);
      await waitFor(`the record after restart #${i}`, async () => {
        if (node.exited) throw new Error(`etcdns exited (${node.exited.code})`);
        return (await web()) === `10.0.0.${i}`;
      }, 20_000);
    }
    await waitFor(
      "the node's own name",
      async () => (await digShort(node.port, "worker1.tf.local", "A")).join() === "127.0.3.1",
      20_000,
    );
    assert.equal(node.exited, null, "the node never crashed");
  } catch (err) {
    console.log(`--- etcdns :${node.port}\n${node.output}`);
    throw err;
  } finally {
    await node.stop();
    await etcd.close();
  }
});
