/**
 * Slots change hands as in the original plugin's integration tests: a missing fifth node's
 * name is NXDOMAIN until it starts; a SIGKILLed node's name frees after the lease TTL, a new
 * node takes it, and the old node coming back gets the next free slot. A node restarted within
 * its lease TTL gets its own name back (sticky), even when a lower slot is free.
 */
import assert from "node:assert/strict";
import { dig, digShort } from "../helpers/dig.ts";
import { getText } from "../helpers/etcd.ts";
import { slotValues, startNode, waitClaimed, withIdetcdCluster } from "../helpers/idetcd.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("four nodes, then a fifth; SIGKILL frees a slot after the TTL; sticky restarts", () =>
  withIdetcdCluster(async (etcd, procs) => {
    const client = etcd.client();
    try {
      // Four nodes with limit 5: worker5 is NXDOMAIN (authoritative, with the short negative TTL).
      const four = await Promise.all([0, 1, 2, 3].map(() => startNode(etcd)));
      procs.push(...four);
      const slots = await Promise.all(four.map((p) => waitClaimed(p)));
      assert.deepEqual([...slots].sort(), [1, 2, 3, 4]);
      // Queries go to the node on slot 4, which stays up throughout.
      const observer = four[slots.indexOf(4)];
      const nx = await dig(observer.port, "worker5.tf.local");
      assert.equal(nx.status, "NXDOMAIN");
      assert.ok(nx.flags.includes("aa"));
      assert.match(nx.stdout, /tf\.local\.\s+5\s+IN\s+SOA\s/);
      assert.deepEqual(await digShort(observer.port, "worker5.tf.local"), []);

      // A fifth node: worker5 resolves everywhere.
      const fifth = await startNode(etcd);
      procs.push(fifth);
      assert.equal(await waitClaimed(fifth), 5);
      await waitFor(
        "worker5 on node 1",
        async () => (await digShort(observer.port, "worker5.tf.local")).length === 1,
      );
      await fifth.stop();
      await waitFor(
        "worker5 released",
        async () => (await dig(observer.port, "worker5.tf.local")).status === "NXDOMAIN",
      );

      // SIGKILL the node holding slot 2: its name is gone once the 2 s lease expires.
      const node2 = four[slots.indexOf(2)];
      await node2.kill();
      await waitFor(
        "worker2 to expire",
        async () => (await dig(observer.port, "worker2.tf.local")).status === "NXDOMAIN",
        10_000,
      );
      // A new node takes slot 2.
      const newcomer = await startNode(etcd);
      procs.push(newcomer);
      assert.equal(await waitClaimed(newcomer), 2);
      // The old node 2 comes back (same port, so the same node id) and gets slot 5.
      const back = await startNode(etcd, { port: node2.port });
      procs.push(back);
      assert.equal(await waitClaimed(back), 5);

      // Sticky: free slot 1, then SIGKILL the node on slot 3 and restart it within the TTL:
      // it takes back slot 3, not the free slot 1.
      const node1 = four[slots.indexOf(1)];
      await node1.stop();
      await waitFor(
        "slot 1 free",
        async () => (await getText(client, "worker1.tf.local.")) === undefined,
      );
      const node3 = four[slots.indexOf(3)];
      await node3.kill();
      const again = await startNode(etcd, { port: node3.port });
      procs.push(again);
      assert.equal(await waitClaimed(again), 3);
      assert.match(again.output, /took back its own slot 3/);
      assert.equal(await getText(client, "worker1.tf.local."), undefined);
    } catch (err) {
      console.log(JSON.stringify(Object.fromEntries(await slotValues(client))));
      throw err;
    }
  }));
