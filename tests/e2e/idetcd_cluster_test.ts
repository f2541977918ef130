/**
 * The seed example end to end: five real etcdns processes on ports 1053–1057 share one etcd,
 * each claims its own name, and every node answers for all of them. Then the limit: a sixth
 * node fails under `on_full fail` and waits under `on_full wait`, taking the slot that a
 * gracefully stopped node releases.
 */
import assert from "node:assert/strict";
import { dig, digShort } from "../helpers/dig.ts";
import {
  idetcdCorefile,
  portsFrom,
  slotValues,
  startNode,
  waitClaimed,
  withIdetcdCluster,
} from "../helpers/idetcd.ts";
import { detectAddresses } from "../../src/plugins/idetcd/node.ts";
import { waitFor } from "../helpers/wait.ts";

Deno.test("five nodes on 1053-1057 each claim a name and all answer for all", () =>
  withIdetcdCluster(async (etcd, procs) => {
    const ports = portsFrom(1053, 5);
    const t0 = performance.now();
    procs.push(...await Promise.all(ports.map((port) => startNode(etcd, { port }))));
    const slots = await Promise.all(procs.map((p) => waitClaimed(p)));
    assert.deepEqual([...slots].sort(), [1, 2, 3, 4, 5]);

    // Start to serving its own name, for one fresh node (measured after the cluster is up).
    const detected = detectAddresses();
    const expectA = detected.ipv4 ? [detected.ipv4] : [];
    console.log(`five nodes started and all claimed in ${(performance.now() - t0).toFixed(0)} ms`);
    // Another node's claim reaches this one through its watch, a moment after that node logs it
    // (longer on a busy machine): wait for it, bounded, and keep dig's last output for a failure.
    const t1 = performance.now();
    for (let id = 1; id <= 5; id++) {
      await waitFor(
        `:${procs[0].port} to answer worker${id}.tf.local`,
        async () => {
          const r = await dig(procs[0].port, `worker${id}.tf.local`);
          const got = [...r.stdout.matchAll(/^worker\d\.tf\.local\.\s+\d+\s+IN\s+A\s+(\S+)$/gm)]
            .map((m) => m[1]);
          if (JSON.stringify(got) !== JSON.stringify(expectA)) throw new Error(r.stdout);
          return true;
        },
        3000,
        20,
      );
    }
    console.log(`node 0 answered all five names ${(performance.now() - t1).toFixed(0)} ms later`);
    if (detected.ipv6) {
      assert.deepEqual(await digShort(procs[0].port, "worker4.tf.local", "AAAA"), [detected.ipv6]);
    }
    // Every node answers the same, authoritatively; the name's case does not matter.
    const r = await dig(procs[4].port, "WORKER2.tf.local");
    assert.equal(r.status, "NOERROR");
    assert.ok(r.flags.includes("aa"));

    // The values in etcd: the original's JSON plus ours, one node id each.
    const values = await slotValues(etcd.client());
    assert.equal(values.size, 5);
    assert.equal(new Set([...values.values()].map((v) => v.node)).size, 5);
    for (const v of values.values()) assert.ok(ports.includes(Number(v.port)));

    // A sixth node under on_full fail exits non-zero, naming the limit.
    const sixth = await startNode(etcd, { waitReady: false });
    const status = await sixth.wait();
    await sixth.stop();
    assert.notEqual(status.code, 0);
    assert.match(
      sixth.output,
      /all 5 slots of pattern 'worker\{\{\.ID\}\}\.tf\.local\.' are taken \(limit 5\)/,
    );

    // Under on_full wait it starts, waits, and takes the slot a SIGTERM releases, within a second.
    const waiter = await startNode(etcd, { extra: ["on_full wait"] });
    procs.push(waiter);
    await waiter.waitForLine(/waiting for a slot to free/);
    const leaving = procs[2];
    const freed = slots[2];
    leaving.signal("SIGTERM");
    await leaving.wait();
    const stoppedAt = performance.now();
    const got = await waitClaimed(waiter, 5000);
    const tookMs = performance.now() - stoppedAt;
    assert.equal(got, freed);
    assert.ok(tookMs < 1000, `claimed the released slot after ${tookMs.toFixed(0)} ms`);
    console.log(
      `a SIGTERM-released slot was claimed by the waiting node in ${tookMs.toFixed(0)} ms`,
    );
    assert.match(leaving.output, /released slot/);
  }));

Deno.test("start to serving its own name", () =>
  withIdetcdCluster(async (etcd, procs) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const p = await startNode(etcd, { waitReady: false });
      procs.push(p);
      const id = await waitClaimed(p, 20_000);
      await waitFor(
        "own name",
        async () => (await digShort(p.port, `worker${id}.tf.local`)).length > 0,
        20_000,
        10,
      );
      times.push(performance.now() - t0);
    }
    console.log(`start to serving own name: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
    assert.ok(idetcdCorefile(etcd).includes("lease 2"));
  }));
