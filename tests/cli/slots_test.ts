import assert from "node:assert/strict";
import { getText, putText, startEtcd } from "../helpers/etcd.ts";
import { runSlotsCommand } from "../../src/cli/slots.ts";

/** Runs the command in-process, capturing what it prints. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await runSlotsCommand(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("etcdns slots list and release, from a Corefile or from flags", async () => {
  const etcd = await startEtcd();
  const dir = await Deno.makeTempDir();
  try {
    const c = etcd.client();
    const lease = (await c.leaseGrant(60)).ID;
    await putText(
      c,
      "/ids/worker1.tf.local.",
      JSON.stringify({ ipv4: "10.0.0.1", ipv6: "fd00::1", port: "53", node: "host-a/10.0.0.1/53" }),
      lease,
    );
    await putText(c, "/ids/worker2.tf.local.", "garbage");
    await putText(c, "/ids/unrelated", "x");
    const corefile = `${dir}/Corefile`;
    await Deno.writeTextFile(
      corefile,
      `.:53 {\n  idetcd {\n    endpoint ${etcd.endpoint}\n    prefix /ids\n    limit 5\n    pattern worker{{.ID}}.tf.local.\n  }\n}\n`,
    );

    let r = await run(["list", "-conf", corefile]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.match(lines[0], /^SLOT\s+NAME\s+IPV4\s+IPV6\s+NODE\s+TTL$/);
    assert.match(
      lines[1],
      /^1\s+worker1\.tf\.local\.\s+10\.0\.0\.1\s+fd00::1\s+host-a\/10\.0\.0\.1\/53\s+\d+s$/,
    );
    assert.match(lines[2], /^2\s+worker2\.tf\.local\.\s+\(bad value: value is not JSON/);
    assert.match(r.out, /2 of 5 slots claimed/);

    r = await run([
      "list",
      "--json",
      "--endpoint",
      etcd.endpoint,
      "--prefix",
      "/ids",
      "--pattern",
      "worker{{.ID}}.tf.local.",
    ]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.slots.length, 2);
    assert.equal(j.slots[0].slot, 1);
    assert.equal(j.slots[0].ipv4, "10.0.0.1");
    assert.ok(j.slots[0].ttl > 50 && j.slots[0].ttl <= 60);
    assert.equal(j.slots[1].ttl, null);
    assert.match(j.slots[1].error, /not JSON/);

    // worker1 has no etcdns 'instance': an original idetcd node, which panics at its next
    // renewal when its slot is deleted. Refused without --force, and the slot is kept.
    r = await run(["release", "worker1.tf.local", "-conf", corefile]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /refused: worker1\.tf\.local\. \(slot 1\) is held by an original idetcd node/,
    );
    assert.match(r.err, /panics at its next lease renewal.*--force/s);
    assert.notEqual(await getText(c, "/ids/worker1.tf.local."), undefined);
    r = await run(["release", "--force", "worker1.tf.local", "-conf", corefile]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /released worker1\.tf\.local\. \(slot 1, node host-a\/10\.0\.0\.1\/53\)/);
    assert.equal(await getText(c, "/ids/worker1.tf.local."), undefined);
    r = await run(["release", "2", "-conf", corefile]);
    assert.equal(r.code, 0, r.err);
    r = await run(["release", "worker3.tf.local.", "-conf", corefile]);
    assert.equal(r.code, 1);
    assert.match(r.err, /worker3\.tf\.local\. \(slot 3\) is not claimed/);
    r = await run(["release", "example.org", "-conf", corefile]);
    assert.equal(r.code, 1);
    assert.match(r.err, /not a name of pattern/);
    assert.equal(await getText(c, "/ids/unrelated"), "x");

    // An etcdns node's slot (with 'instance') is released without --force.
    await putText(
      c,
      "/ids/worker4.tf.local.",
      JSON.stringify({ ipv4: "10.0.0.4", port: "53", node: "host-d", instance: "f00d" }),
      lease,
    );
    r = await run(["release", "4", "-conf", corefile]);
    assert.equal(r.code, 0, r.err);
    assert.equal(await getText(c, "/ids/worker4.tf.local."), undefined);
    await c.leaseRevoke(lease);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await etcd.close();
  }
});

Deno.test("etcdns slots: usage errors exit 2, unreachable etcd exits 1 naming it", async () => {
  let r = await run(["list"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /give -conf COREFILE .* or --pattern TPL/);
  r = await run(["frobnicate"]);
  assert.equal(r.code, 2);
  r = await run(["release"]);
  assert.equal(r.code, 2);
  r = await run(["list", "--force", "--pattern", "w{{.ID}}.x."]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--force goes with 'release'/);
  r = await run(["list", "--pattern", "worker.tf.local."]);
  assert.equal(r.code, 2);
  assert.match(r.err, /has no \{\{\.ID\}\}/);
  r = await run(["list", "-conf", "/nonexistent/Corefile"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot read the Corefile/);
  r = await run([
    "list",
    "--pattern",
    "w{{.ID}}.x.",
    "--endpoint",
    "http://127.0.0.1:1",
    "--timeout",
    "500ms",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.err, /etcd at http:\/\/127\.0\.0\.1:1/);
  r = await run(["help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /usage: etcdns slots/);
});

Deno.test("etcdns slots self: finds the slot carrying this node's id, as shell lines or JSON", async () => {
  const etcd = await startEtcd();
  const dir = await Deno.makeTempDir();
  try {
    const c = etcd.client();
    const lease = (await c.leaseGrant(60)).ID;
    // Slot 1 is another node's; slot 2 carries the id idetcd computes for this block:
    // HOSTNAME/ADDRESS/PORT with the fixed address and the key's port.
    const mine = `${Deno.hostname()}/10.0.0.2/1053`;
    await putText(c, "etcd1.tf.local.", JSON.stringify({ ipv4: "10.0.0.1", node: "other" }), lease);
    await putText(
      c,
      "etcd2.tf.local.",
      JSON.stringify({ ipv4: "10.0.0.2", ipv6: "fd00::2", port: "1053", node: mine }),
      lease,
    );
    const corefile = `${dir}/Corefile`;
    await Deno.writeTextFile(
      corefile,
      `tf.local:1053 {\n  idetcd {\n    endpoint ${etcd.endpoint}\n    pattern etcd{{.ID}}.tf.local.\n    address 10.0.0.2\n  }\n}\n`,
    );
    let r = await run(["self", "-conf", corefile]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      `NAME=etcd2.tf.local.\nHOST=etcd2.tf.local\nSLOT=2\nIPV4=10.0.0.2\nIPV6=fd00::2\nNODE=${mine}`,
    );
    r = await run(["self", "-conf", corefile, "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      name: "etcd2.tf.local.",
      host: "etcd2.tf.local",
      slot: 2,
      ipv4: "10.0.0.2",
      ipv6: "fd00::2",
      node: mine,
    });
    // --node-id picks another node's slot; an id nobody carries is exit 1, after --wait.
    r = await run(["self", "-conf", corefile, "--node-id", "other"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAME=etcd1\.tf\.local\.$/m);
    const started = Date.now();
    r = await run(["self", "-conf", corefile, "--node-id", "nobody", "--wait", "600ms"]);
    assert.equal(r.code, 1);
    assert.ok(Date.now() - started >= 500);
    assert.match(
      r.err,
      /node id 'nobody'\) holds no slot of pattern 'etcd\{\{\.ID\}\}\.tf\.local\.'/,
    );
    r = await run(["self", "-conf", corefile, "--wait", "soon"]);
    assert.equal(r.code, 2);
    r = await run(["self", "extra", "-conf", corefile]);
    assert.equal(r.code, 2);
  } finally {
    await etcd.close();
    await Deno.remove(dir, { recursive: true });
  }
});
