/**
 * The seed's promise: several etcdns nodes share one hosts file in etcd; an operator uploads a
 * new one with `etcdns hosts upload`, and every node answers the new record within a moment,
 * without a restart and without reading etcd per query. The measured time is printed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { digShort } from "../helpers/dig.ts";
import { udpExchange } from "../helpers/dns_client.ts";
import { putText, startEtcd } from "../helpers/etcd.ts";
import { type EtcdnsProcess, startEtcdns } from "../helpers/etcdns.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { waitFor } from "../helpers/wait.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function corefile(endpoint: string): string {
  return `.:{PORT} {
    etcdhosts . {
        fallthrough .
        key /etcdhosts
        timeout 5s
        endpoint ${endpoint}
    }
    whoami
}
`;
}

/** The A answers of one node, by a raw UDP query (cheaper than a dig process per poll). */
async function addresses(port: number, name: string): Promise<string[]> {
  const reply = await udpExchange(port, makeQuery(name, "A"), 500);
  if (!reply) return [];
  return parseReply(reply).answers.filter((r) => r.type === "A").map((r) => String(r.data));
}

Deno.test("etcdhosts e2e: an upload reaches three nodes within 1 s", async () => {
  const etcd = await startEtcd();
  const nodes: EtcdnsProcess[] = [];
  const dir = await Deno.makeTempDir({ prefix: "etcdns-prop-" });
  try {
    await putText(etcd.client(), "/etcdhosts", "10.0.0.1 node1.cluster.test\n");
    for (let i = 0; i < 3; i++) {
      nodes.push(await startEtcdns({ corefile: corefile(etcd.endpoint) }));
    }
    for (const n of nodes) {
      await waitFor(
        `node :${n.port} loaded`,
        async () => (await digShort(n.port, "node1.cluster.test", "A")).join() === "10.0.0.1",
      );
    }

    const file = `${dir}/hosts`;
    await Deno.writeTextFile(file, "10.0.0.1 node1.cluster.test\n10.0.0.2 node2.cluster.test\n");
    const started = performance.now();
    const upload = await new Deno.Command(`${ROOT}scripts/start`, {
      args: [
        "hosts",
        "--endpoint",
        etcd.endpoint,
        "upload",
        file,
      ],
      env: { HOME: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const written = performance.now();
    assert.equal(upload.code, 0, new TextDecoder().decode(upload.stderr));

    const seen = new Map<number, number>();
    while (seen.size < nodes.length && performance.now() - written < 5000) {
      await Promise.all(nodes.map(async (n) => {
        if (
          !seen.has(n.port) && (await addresses(n.port, "node2.cluster.test")).includes("10.0.0.2")
        ) {
          seen.set(n.port, performance.now());
        }
      }));
    }
    assert.equal(seen.size, 3, "all three nodes answer the new record");
    const last = Math.max(...seen.values());
    console.log(
      `propagation to 3 nodes: ${(last - written).toFixed(0)} ms after 'etcdns hosts upload' ` +
        `returned (${(last - started).toFixed(0)} ms including the CLI's own start and run)`,
    );
    assert.ok(last - written < 1000, `took ${(last - written).toFixed(0)} ms`);
    for (const n of nodes) {
      assert.deepEqual(await digShort(n.port, "node2.cluster.test", "A"), ["10.0.0.2"]);
    }

    // The same from the moment of the etcd write itself (a put from this process).
    const t0 = performance.now();
    await putText(etcd.client(), "/etcdhosts", "10.0.0.3 node3.cluster.test\n");
    const done = new Set<number>();
    let t1 = t0;
    while (done.size < nodes.length && performance.now() - t0 < 5000) {
      await Promise.all(nodes.map(async (n) => {
        if (!done.has(n.port) && (await addresses(n.port, "node3.cluster.test")).length === 1) {
          done.add(n.port);
          t1 = performance.now();
        }
      }));
    }
    assert.equal(done.size, 3);
    console.log(`propagation to 3 nodes from the etcd put: ${(t1 - t0).toFixed(0)} ms`);
    assert.ok(t1 - t0 < 1000, `took ${(t1 - t0).toFixed(0)} ms`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await etcd.close();
    await Deno.remove(dir, { recursive: true });
  }
});
