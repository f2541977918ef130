/**
 * The race the original plugin loses: 30 processes start at the same instant with limit 30.
 * They must end up holding 30 distinct slots, checked both in etcd and through DNS.
 */
import assert from "node:assert/strict";
import { digShort } from "../helpers/dig.ts";
import { slotValues, startNode, waitClaimed, withIdetcdCluster } from "../helpers/idetcd.ts";
import { GiveUp, waitFor } from "../helpers/wait.ts";

const N = 30;

Deno.test(`${N} processes racing for ${N} slots hold ${N} distinct ones`, () =>
  withIdetcdCluster(async (etcd, procs) => {
    const client = etcd.client();
    // Each node publishes its own loopback address, so DNS answers tell the nodes apart.
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      procs.push(
        await startNode(etcd, {
          limit: N,
          lease: 3,
          // 30 nodes share this machine's cores: one thread each, so that starting a second
          // thread per node (a whole module graph to compile) does not starve the 3 s leases.
          workers: 1,
          extra: [`address 127.0.1.${i + 1}`],
          waitReady: false,
        }),
      );
    }
    const spawned = performance.now() - t0;
    await waitFor(
      `${N} keys`,
      async () => {
        const dead = procs.find((p) => p.exited);
        if (dead) throw new GiveUp(`etcdns :${dead.port} exited (${dead.exited?.code})`);
        const keys = (await slotValues(client)).size;
        if (keys < N) throw new Error(`${keys} so far`);
        return true;
      },
      120_000,
      100,
    );
    const allClaimed = performance.now() - t0;
    const slots = await Promise.all(procs.map((p) => waitClaimed(p, 60_000)));
    console.log(
      `${N} racing processes: spawned in ${spawned.toFixed(0)} ms, all claimed ${
        allClaimed.toFixed(0)
      } ms after the first spawn`,
    );
    assert.deepEqual([...slots].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i + 1));

    // etcd: N keys, N node ids, N addresses, each node's address in the slot it logged.
    const values = await slotValues(client);
    assert.equal(values.size, N);
    assert.equal(new Set([...values.values()].map((v) => v.node)).size, N);
    for (let i = 0; i < N; i++) {
      assert.equal(values.get(`worker${slots[i]}.tf.local.`)?.ipv4, `127.0.1.${i + 1}`);
    }
    // DNS: one node answers every name with the address of the node that holds it.
    for (let i = 0; i < N; i++) {
      const answer = await waitFor(
        `worker${slots[i]}`,
        async () => {
          const a = await digShort(procs[0].port, `worker${slots[i]}.tf.local`);
          return a.length > 0 ? a : null;
        },
      );
      assert.deepEqual(answer, [`127.0.1.${i + 1}`]);
    }
    // Nobody lost a race into a duplicate: every node logged exactly one claim.
    for (const p of procs) {
      assert.equal(p.lines.filter((l) => /claimed slot|took back/.test(l)).length, 1, p.output);
    }
  }));
