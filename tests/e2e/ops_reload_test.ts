/**
 * reload end to end: a real etcdns notices edits to its Corefile and to an imported file,
 * applies them without a restart and without giving up its idetcd slot, and keeps serving the
 * running config when an edit breaks the Corefile.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { startEtcd } from "../helpers/etcd.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { PATTERN, slotValues, waitClaimed } from "../helpers/idetcd.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";
import { parsePrometheus, sampleSum } from "../plugins/prometheus/_parse.ts";

Deno.test("ops reload: edits apply without a restart, the slot stays held, a broken edit is refused", async () => {
  const etcd = await startEtcd();
  const prom = freePort();
  const dir = await Deno.makeTempDir({ prefix: "etcdns-reload-e2e-" });
  const extra = `${dir}/extra.conf`;
  await Deno.writeTextFile(extra, "# nothing yet\n");
  const corefile = (more: string) =>
    `example.org:{PORT} {
    reload 2s 1s
    bind 127.0.0.1
    prometheus 127.0.0.1:${prom}
    whoami
}
tf.local:{PORT} {
    bind 127.0.0.1
    idetcd {
        endpoint ${etcd.endpoint}
        limit 3
        lease 2
        pattern ${PATTERN}
        address 127.0.0.2
    }
}
import ${extra}
${more}`;
  let srv;
  try {
    srv = await startEtcdns({ corefile: corefile(""), timeoutMs: 30_000 });
    const port = srv.port;
    const slot = await waitClaimed(srv);
    const before = (await slotValues(etcd.client())).get(`worker${slot}.tf.local.`);
    assert.ok(before, "the slot is in etcd");
    assert.equal((await dig(port, "other.org")).status, "REFUSED");
    const status = async (name: string) => (await dig(port, name)).status;

    // An imported file changes: its new server block serves, without a restart.
    await Deno.writeTextFile(
      extra,
      "other.org:{PORT} {\n    bind 127.0.0.1\n    whoami\n}\n".replace("{PORT}", String(port)),
    );
    await waitFor(
      "other.org to be served",
      async () => (await status("other.org")) === "NOERROR",
      15_000,
    );

    // The Corefile itself changes: a third zone serves.
    srv.writeCorefile(corefile("third.org:{PORT} {\n    bind 127.0.0.1\n    whoami\n}\n"));
    await waitFor(
      "third.org to be served",
      async () => (await status("third.org")) === "NOERROR",
      15_000,
    );

    // The slot was held throughout: same name, same lease, never released.
    const after = (await slotValues(etcd.client())).get(`worker${slot}.tf.local.`);
    assert.deepEqual(after, before);
    assert.ok(!srv.lines.some((l) => /released slot/.test(l)), srv.output);
    assert.equal(srv.lines.filter((l) => /plugin\/idetcd: (claimed|took back)/.test(l)).length, 1);
    assert.equal((await dig(port, `worker${slot}.tf.local`)).status, "NOERROR");

    // A broken edit: the reload fails, is counted, and the running config keeps serving.
    srv.writeCorefile(corefile("broken.org:{PORT} {\n    whoami\n"));
    await srv.waitForLine(
      /reload failed, still serving the previous config: .*Corefile:\d+ - /,
      15_000,
    );
    for (const name of ["example.org", "other.org", "third.org"]) {
      assert.equal(await status(name), "NOERROR", name);
    }
    const scrape = parsePrometheus(await (await fetch(`http://127.0.0.1:${prom}/metrics`)).text());
    assert.equal(sampleSum(scrape, "coredns_reload_failed_total"), 1);
    assert.equal(sampleSum(scrape, "coredns_reload_version_info", { hash: "sha512" }), 1);

    // Fixed again: the next edit applies (third.org goes away).
    srv.writeCorefile(corefile(""));
    await waitFor(
      "third.org to be refused",
      async () => (await status("third.org")) === "REFUSED",
      15_000,
    );
    assert.equal(srv.exited, null);
  } finally {
    await srv?.stop();
    await etcd.close();
    await Deno.remove(dir, { recursive: true });
  }
});
