import { memoryLog } from "../../helpers/memory_log.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  getText,
  keysWithPrefix,
  putText,
  rangePrefix,
  startEtcd,
  type TestEtcd,
} from "../../helpers/etcd.ts";
import { waitFor } from "../../helpers/wait.ts";
import { defaultEtcdOptions } from "../../../src/etcd/options.ts";
import { type ClaimConfig, SlotClaimer } from "../../../src/plugins/idetcd/claimer.ts";
import { Pattern } from "../../../src/plugins/idetcd/pattern.ts";
import { SlotLayout } from "../../../src/plugins/idetcd/slots.ts";
import { SlotView } from "../../../src/plugins/idetcd/view.ts";

const PATTERN = "worker{{.ID}}.tf.local.";

/** One node: a view and a claimer, as setup wires them. */
class Node {
  readonly log = memoryLog();
  readonly view: SlotView;
  readonly claimer: SlotClaimer;
  constructor(etcd: TestEtcd, overrides: Partial<ClaimConfig> & { nodeId: string }) {
    const layout = new SlotLayout(Pattern.parse(PATTERN), overrides.layout?.prefix ?? "");
    const opts = { ...defaultEtcdOptions(), endpoints: [etcd.endpoint], timeoutMs: 1500 };
    this.view = new SlotView(opts, layout, this.log);
    this.claimer = new SlotClaimer(
      {
        etcd: opts,
        layout,
        limit: 5,
        leaseSeconds: 2,
        address: { ipv4: "10.0.0.1", ipv6: "fd00::1" },
        onFull: "fail",
        dnsPort: 1053,
        ...overrides,
      },
      this.view,
      this.log,
    );
  }
  async start(): Promise<void> {
    await this.view.start();
    await this.claimer.start();
  }
  async close(): Promise<void> {
    await this.claimer.close();
    await this.view.close();
  }
  get id(): number | undefined {
    return this.claimer.held?.id;
  }
}

/** Runs `fn` with a fresh etcd; prints the nodes' logs when it fails; closes everything. */
async function withEtcd(fn: (etcd: TestEtcd, nodes: Node[]) => Promise<void>): Promise<void> {
  const etcd = await startEtcd();
  const nodes: Node[] = [];
  try {
    await fn(etcd, nodes);
  } catch (err) {
    for (const n of nodes) console.log(`--- ${n.claimer.nodeId}\n${n.log.lines.join("\n")}`);
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    await etcd.close();
  }
}

function node(etcd: TestEtcd, nodes: Node[], nodeId: string, o: Partial<ClaimConfig> = {}): Node {
  const n = new Node(etcd, { nodeId, ...o });
  nodes.push(n);
  return n;
}

Deno.test("claimers racing in one process get distinct slots, one transaction each", async () => {
  await withEtcd(async (etcd, nodes) => {
    const n = 12;
    const racers = Array.from({ length: n }, (_, i) => node(etcd, nodes, `n${i}`, { limit: n }));
    const t0 = performance.now();
    await Promise.all(racers.map((r) => r.start()));
    const ms = performance.now() - t0;
    const ids = racers.map((r) => r.id);
    assert.deepEqual([...ids].sort((a, b) => a! - b!), Array.from({ length: n }, (_, i) => i + 1));
    const keys = await keysWithPrefix(etcd.client(), "worker");
    assert.equal(keys.length, n);
    assert.ok(racers.every((r) => r.claimer.ready()));
    console.log(`${n} in-process racers all claimed in ${ms.toFixed(0)} ms`);
  });
});

Deno.test("the value is the original's JSON plus our fields, under the lease", async () => {
  await withEtcd(async (etcd, nodes) => {
    const a = node(etcd, nodes, "a");
    await a.start();
    const c = etcd.client();
    const v = JSON.parse((await getText(c, "worker1.tf.local."))!);
    assert.equal(v.ipv4, "10.0.0.1");
    assert.equal(v.ipv6, "fd00::1");
    assert.equal(v.port, "1053");
    assert.equal(v.node, "a");
    assert.ok(typeof v.claimed_at === "string" && typeof v.instance === "string");
    // Released at once on close.
    await a.close();
    nodes.length = 0;
    assert.equal(await getText(c, "worker1.tf.local."), undefined);
  });
});

Deno.test("a restarted node takes back the slot carrying its node id (sticky)", async () => {
  await withEtcd(async (etcd, nodes) => {
    const c = etcd.client();
    // A predecessor that died without releasing: its slot 3 is still under its live lease.
    const lease = (await c.leaseGrant(30)).ID;
    await putText(c, "worker3.tf.local.", JSON.stringify({ ipv4: "10.0.0.9", node: "me" }), lease);
    await node(etcd, nodes, "other").start();
    const me = node(etcd, nodes, "me");
    await me.start();
    assert.equal(me.id, 3);
    const v = JSON.parse((await getText(c, "worker3.tf.local."))!);
    assert.equal(v.ipv4, "10.0.0.1", "the value is rewritten with the new addresses");
    // Moved onto the new lease: revoking the old one must not delete it.
    await c.leaseRevoke(lease);
    assert.notEqual(await getText(c, "worker3.tf.local."), undefined);
  });
});

Deno.test("a live twin with the same node id makes us move to another slot", async () => {
  await withEtcd(async (etcd, nodes) => {
    const a = node(etcd, nodes, "twin");
    await a.start();
    assert.equal(a.id, 1);
    // Another process with the same node id takes slot 1 over (different instance, new lease).
    const c = etcd.client();
    const lease = (await c.leaseGrant(30)).ID;
    await putText(
      c,
      "worker1.tf.local.",
      JSON.stringify({ ipv4: "10.0.0.2", node: "twin", instance: "someone-else" }),
      lease,
    );
    await waitFor("a to move", () => a.id === 2);
    assert.ok(a.log.lines.some((l) => l.includes("another live instance")));
    await c.leaseRevoke(lease);
  });
});

Deno.test("on_full fail rejects naming the limit; on_full wait takes the first freed slot", async () => {
  await withEtcd(async (etcd, nodes) => {
    const a = node(etcd, nodes, "a", { limit: 2 });
    const b = node(etcd, nodes, "b", { limit: 2 });
    await a.start();
    await b.start();
    const c = node(etcd, nodes, "c", { limit: 2 });
    await assert.rejects(c.start(), /all 2 slots .* are taken \(limit 2\)/);
    const w = node(etcd, nodes, "w", { limit: 2, onFull: "wait" });
    await w.start();
    assert.equal(w.claimer.ready(), false);
    assert.equal(w.id, undefined);
    await b.close();
    nodes.splice(nodes.indexOf(b), 1);
    await waitFor("w to take slot 2", () => w.id === 2 && w.claimer.ready(), 5000);
  });
});

Deno.test("a lost lease makes the node not ready and it re-claims the same slot", async () => {
  await withEtcd(async (etcd, nodes) => {
    const a = node(etcd, nodes, "a");
    await a.start();
    await node(etcd, nodes, "b").start();
    assert.equal(a.id, 1);
    const c = etcd.client();
    const kv = (await rangePrefix(c, "worker1.")).kvs[0];
    await c.leaseRevoke(kv.lease);
    await waitFor("a to hold slot 1 under a new lease", async () => {
      const now = (await rangePrefix(c, "worker1.")).kvs[0];
      return now && now.lease !== kv.lease && a.claimer.ready() && a.id === 1;
    }, 8000);
    assert.ok(a.log.lines.some((l) => /lease lost|was deleted/.test(l)));
  });
});

Deno.test("etcd down longer than the TTL: not ready, keeps its view; back: ready, no duplicates", async () => {
  await withEtcd(async (etcd, nodes) => {
    const a = node(etcd, nodes, "a");
    const b = node(etcd, nodes, "b");
    await a.start();
    await b.start();
    await waitFor("views", () => a.view.all().length === 2);
    await etcd.stop();
    await waitFor("a not ready", () => !a.claimer.ready(), 6000);
    assert.equal(a.view.all().length, 2, "the view is kept while etcd is away");
    await new Promise((r) => setTimeout(r, 2500)); // longer than the 2 s TTL, by design of the scenario
    await etcd.start();
    await waitFor("both ready", () => a.claimer.ready() && b.claimer.ready(), 15_000);
    assert.notEqual(a.id, b.id);
    const c = etcd.client();
    await waitFor("two keys", async () => (await keysWithPrefix(c, "worker")).length === 2);
  });
});

Deno.test("bad values in etcd are ignored with a log line and keep their slot taken", async () => {
  await withEtcd(async (etcd, nodes) => {
    const c = etcd.client();
    await putText(c, "worker1.tf.local.", "not json");
    await putText(c, "worker2.tf.local.", JSON.stringify({ ipv4: "999.1.1.1" }));
    await putText(c, "worker4.tf.local.", JSON.stringify({ ipv4: "10.1.1.4" }));
    const a = node(etcd, nodes, "a");
    await a.start();
    assert.equal(a.id, 3);
    await waitFor("view", () => a.view.get("worker3.tf.local.") !== undefined);
    assert.equal(a.view.get("worker1.tf.local."), undefined);
    assert.equal(a.view.get("worker2.tf.local."), undefined);
    assert.equal(a.view.get("worker4.tf.local.")?.value?.ipv4, "10.1.1.4");
    assert.ok(a.log.lines.some((l) => l.includes("ignoring slot 1") && l.includes("not JSON")));
    assert.ok(a.log.lines.some((l) => l.includes("ignoring slot 2") && l.includes("999.1.1.1")));
    // A bad value arriving through the watch is ignored too.
    await putText(c, "worker4.tf.local.", Buffer.from([0xff, 0xfe]));
    await waitFor("worker4 dropped", () => a.view.get("worker4.tf.local.") === undefined);
  });
});

Deno.test("a prefix puts the keys under PREFIX/name", async () => {
  await withEtcd(async (etcd, nodes) => {
    const layout = new SlotLayout(Pattern.parse(PATTERN), "/idetcd");
    const a = node(etcd, nodes, "a", { layout });
    await a.start();
    const keys = await keysWithPrefix(etcd.client(), "/idetcd/");
    assert.deepEqual(keys, ["/idetcd/worker1.tf.local."]);
  });
});

Deno.test("a reloaded config of the same process takes the slot over; the old one stands down", async () => {
  await withEtcd(async (etcd, nodes) => {
    const old = node(etcd, nodes, "me");
    await old.start();
    assert.equal(old.id, 1);
    const fresh = node(etcd, nodes, "me", { limit: 7 });
    await fresh.start();
    assert.equal(fresh.id, 1, "the new config keeps the name");
    await waitFor("old to stand down", () => old.id === undefined);
    assert.ok(old.log.lines.some((l) => l.includes("handed over")));
    await old.close();
    nodes.splice(nodes.indexOf(old), 1);
    const c = etcd.client();
    assert.notEqual(
      await getText(c, "worker1.tf.local."),
      undefined,
      "closing the old one keeps it",
    );
    assert.ok(fresh.claimer.ready());
  });
});
