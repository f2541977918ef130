/**
 * etcd restarting gracefully under a running node: each stop (SIGTERM) makes etcd send HTTP/2
 * GOAWAY on every client connection. On Deno 2.9.6 that can crash the node (SIGSEGV, or an
 * nghttp2 assertion in find_stream_on_goaway_func) inside Deno's native node:http2 code:
 * denoland/deno#36788, seen on etcd 3.7 and 3.4, with no workaround in etcd3/grpc-js options.
 * The node must survive every restart and serve what etcd holds afterwards. Ignored unless
 * ETCDNS_TEST_GOAWAY=1 until Deno is fixed; the test runner itself holds no gRPC client here
 * (it writes through etcd's JSON gateway), so a crash fails this test instead of the run.
 */
import assert from "node:assert/strict";
import { digShort } from "../helpers/dig.ts";
import { startEtcd } from "../helpers/etcd.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { PATTERN } from "../helpers/idetcd.ts";
import { waitFor } from "../helpers/wait.ts";

const RESTARTS = 5;
const ENABLED = Deno.env.get("ETCDNS_TEST_GOAWAY") === "1";

/** A put through etcd's JSON gateway, so that this process opens no HTTP/2 client. */
async function put(endpoint: string, key: string, value: string): Promise<void> {
  const res = await fetch(`${endpoint}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({ key: btoa(key), value: btoa(value) }),
  });
  await res.text();
  if (!res.ok) throw new Error(`put ${key}: HTTP ${res.status}`);
}

Deno.test({
  name: "etcd restarts 5 times (SIGTERM) under a running node; the node survives and serves" +
    (ENABLED ? "" : " [ignored: Deno crashes on HTTP/2 GOAWAY, denoland/deno#36788; " +
      "ETCDNS_TEST_GOAWAY=1 runs it]"),
  ignore: !ENABLED,
  fn: restarts,
});

async function restarts(): Promise<void> {
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
}
