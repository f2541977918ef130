/**
 * Failure modes: etcd going away for longer than the lease TTL, and garbage in etcd. Nodes keep
 * answering from memory, never crash, and hold distinct slots again once etcd is back.
 */
import assert from "node:assert/strict";
import { dig, digShort } from "../helpers/dig.ts";
import { putText } from "../helpers/etcd.ts";
import type { EtcdnsProcess } from "../helpers/etcdns.ts";
import {
  claimedSlot,
  slotValues,
  startNode,
  waitClaimed,
  withIdetcdCluster,
} from "../helpers/idetcd.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("etcd outage longer than the TTL: answers from memory, then distinct slots again", () =>
  withIdetcdCluster(async (etcd, procs) => {
    procs.push(
      ...await Promise.all(
        [1, 2, 3].map((i) => startNode(etcd, { extra: [`address 127.0.2.${i}`] })),
      ),
    );
    const before = await Promise.all(procs.map((p) => waitClaimed(p)));
    const answers = async (p: EtcdnsProcess) =>
      (await Promise.all([1, 2, 3].map((id) => digShort(p.port, `worker${id}.tf.local`)))).flat()
        .sort();
    const all = ["127.0.2.1", "127.0.2.2", "127.0.2.3"];
    for (const p of procs) await waitFor("full view", async () => (await answers(p)).length === 3);

    await etcd.stop();
    // Longer than the 2 s TTL: every node notices it cannot renew and says so.
    for (const p of procs) await p.waitForLine(/no lease keepalive answer/, 15_000);
    for (const p of procs) assert.deepEqual(await answers(p), all, "answers come from memory");

    await etcd.start();
    await waitFor(
      "every node to hold a slot again",
      async () => {
        const v = await slotValues(etcd.client());
        return v.size === 3 && new Set([...v.values()].map((x) => x.node)).size === 3;
      },
      20_000,
      100,
    );
    const after = procs.map((p) => claimedSlot(p));
    assert.equal(new Set(after).size, 3, `distinct slots after the outage: ${after}`);
    assert.deepEqual([...after].sort(), [...before].sort());
    for (const p of procs) {
      assert.equal(p.exited, null, "no node crashed");
      await waitFor("answers", async () => (await answers(p)).join() === all.join());
    }
  }));

Deno.test("bad values in etcd are ignored with a log line and never crash a node", () =>
  withIdetcdCluster(async (etcd, procs) => {
    const client = etcd.client();
    await putText(client, "worker1.tf.local.", "{not json");
    await putText(client, "worker2.tf.local.", JSON.stringify({ ipv4: "300.1.1.1", port: "53" }));
    const p = await startNode(etcd);
    procs.push(p);
    assert.equal(await waitClaimed(p), 3, "slots holding bad values still count as taken");
    await p.waitForLine(/ignoring slot 1 \(key 'worker1\.tf\.local\.'\): value is not JSON/);
    await p.waitForLine(/ignoring slot 2 .*ipv4 '300\.1\.1\.1' is not an IPv4 address/);
    assert.equal((await dig(p.port, "worker1.tf.local")).status, "NXDOMAIN");

    // Bad values arriving through the watch: ignored too, and the node keeps answering.
    await putText(client, "worker4.tf.local.", JSON.stringify({ ipv6: "not-an-ip" }));
    await putText(client, "worker5.tf.local.", "[1,2,3]");
    await p.waitForLine(/ignoring slot 4 .*ipv6 'not-an-ip' is not an IPv6 address/);
    await p.waitForLine(/ignoring slot 5 .*not a JSON object/);
    assert.equal((await digShort(p.port, "worker3.tf.local")).length, 1);
    assert.equal(p.exited, null);
  }));

Deno.test("a node started while etcd is down serves at once and claims when etcd comes", () =>
  withIdetcdCluster(async (etcd, procs) => {
    await etcd.stop();
    const p = await startNode(etcd);
    procs.push(p);
    await p.waitForLine(/cannot claim a slot: etcd at .* is unreachable/);
    assert.equal((await dig(p.port, "worker1.tf.local")).status, "NXDOMAIN");
    await etcd.start();
    assert.equal(await waitClaimed(p), 1);
    await waitFor(
      "own name",
      async () => (await digShort(p.port, "worker1.tf.local")).length === 1,
    );
  }));
