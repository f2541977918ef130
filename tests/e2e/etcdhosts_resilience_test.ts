/**
 * etcdhosts resilience with real processes: etcd down at start, an etcd restart, a deleted
 * key, and a compaction while the node was cut off. Queried with dig.
 */
import assert from "node:assert/strict";
import { dig, digShort } from "../helpers/dig.ts";
import { deleteKey, putText, startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import { type EtcdnsProcess, startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";
import { startProxy } from "../plugins/etcdhosts/_proxy.ts";

function corefile(endpoint: string, extra = ""): string {
  return `.:{PORT} {
    ${extra}
    etcdhosts . {
        10.9.9.9 inline.cluster.test
        key /etcdhosts
        timeout 1s
        endpoint ${endpoint}
    }
}
`;
}

async function a(node: EtcdnsProcess, name: string): Promise<string> {
  return (await digShort(node.port, name, "A")).join(",");
}

/** Runs `fn` with a fresh etcd; every node it starts through `start` is stopped afterwards. */
async function scenario(
  fn: (
    etcd: TestEtcd,
    start: (endpoint: string, extra?: string) => Promise<EtcdnsProcess>,
  ) => Promise<void>,
): Promise<void> {
  const etcd = await startEtcd();
  const nodes: EtcdnsProcess[] = [];
  const start = async (endpoint: string, extra = "") => {
    const node = await startEtcdns({ corefile: corefile(endpoint, extra) });
    nodes.push(node);
    return node;
  };
  try {
    await fn(etcd, start);
  } catch (e) {
    for (const n of nodes) console.log(n.output);
    throw e;
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await etcd.close();
  }
}

Deno.test("etcdhosts e2e: etcd down at start; the server starts, then serves once etcd is up", async () => {
  await scenario(async (etcd, start) => {
    await putText(etcd.client(), "/etcdhosts", "10.0.0.1 web.cluster.test\n");
    await etcd.stop();
    const readyPort = freePort();
    const ready = async () => {
      const res = await fetch(`http://127.0.0.1:${readyPort}/ready`);
      return `${res.status} ${await res.text()}`;
    };
    const node = await start(etcd.endpoint, `ready 127.0.0.1:${readyPort}`);
    assert.equal(await a(node, "inline.cluster.test"), "10.9.9.9");
    assert.equal((await dig(node.port, "web.cluster.test", "A")).status, "SERVFAIL");
    assert.equal(await ready(), "503 etcdhosts");
    await etcd.start();
    await waitFor(
      "the record",
      async () => (await a(node, "web.cluster.test")) === "10.0.0.1",
      20_000,
    );
    assert.equal(await ready(), "200 OK");
  });
});

Deno.test("etcdhosts e2e: the watch resumes after etcd restarts; a deleted key keeps the data", async () => {
  await scenario(async (etcd, start) => {
    const client = etcd.client();
    await putText(client, "/etcdhosts", "10.0.0.1 web.cluster.test\n");
    const node = await start(etcd.endpoint);
    await waitFor("loaded", async () => (await a(node, "web.cluster.test")) === "10.0.0.1");

    await etcd.stop();
    await node.waitForLine(/watch stream broke|watch failed/, 15_000);
    assert.equal(
      await a(node, "web.cluster.test"),
      "10.0.0.1",
      "served from memory while etcd is down",
    );
    await etcd.start();
    await putText(client, "/etcdhosts", "10.0.0.2 web.cluster.test\n");
    await waitFor(
      "the change after the restart",
      async () => (await a(node, "web.cluster.test")) === "10.0.0.2",
      20_000,
    );

    await deleteKey(client, "/etcdhosts");
    await node.waitForLine(/key \/etcdhosts was deleted from etcd .* keeping the last good data/);
    assert.equal(await a(node, "web.cluster.test"), "10.0.0.2", "the old data is still served");
    assert.equal(await a(node, "inline.cluster.test"), "10.9.9.9");
  });
});

Deno.test("etcdhosts e2e: compaction with a change in between; the node catches up", async () => {
  await scenario(async (etcd, start) => {
    const proxy = startProxy(etcd.endpoint);
    const client = etcd.client();
    try {
      await putText(client, "/etcdhosts", "10.0.0.1 web.cluster.test\n");
      const node = await start(proxy.endpoint);
      await waitFor("loaded", async () => (await a(node, "web.cluster.test")) === "10.0.0.1");
      proxy.cut();
      await node.waitForLine(/watch stream broke|watch failed/, 15_000);
      await putText(client, "/etcdhosts", "10.0.0.2 web.cluster.test\n");
      await putText(client, "/other", "x");
      await putText(client, "/etcdhosts", "10.0.0.3 web.cluster.test\n");
      await etcd.compact();
      proxy.restore();
      await waitFor(
        "caught up",
        async () => (await a(node, "web.cluster.test")) === "10.0.0.3",
        20_000,
      );
      await node.waitForLine(/was compacted .* re-reading/);
    } finally {
      await proxy.close();
    }
  });
});
