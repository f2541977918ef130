/**
 * Corefile.example as `deno task dev` runs it (-dns.port, a local etcd): the README's quick start
 * answers on 127.0.0.1, and nothing listens on any other address.
 */
import assert from "node:assert/strict";
import { dig, digShort } from "../helpers/dig.ts";
import { startEtcd } from "../helpers/etcd.ts";
import { ROOT, startEtcdns } from "../helpers/etcdns.ts";
import { waitClaimed } from "../helpers/idetcd.ts";
import { freePort } from "../helpers/ports.ts";

Deno.test("Corefile.example: dig @127.0.0.1 -p PORT answers as the quick start says; it binds loopback only", async () => {
  const etcd = await startEtcd();
  let srv;
  try {
    // Only the etcd endpoint and the HTTP ports change, so that tests can run side by side.
    const corefile = Deno.readTextFileSync(`${ROOT}Corefile.example`)
      .replaceAll("http://127.0.0.1:2379", etcd.endpoint)
      .replace("127.0.0.1:8080", `127.0.0.1:${freePort()}`)
      .replace("127.0.0.1:8181", `127.0.0.1:${freePort()}`)
      .replace("127.0.0.1:9153", `127.0.0.1:${freePort()}`);
    const port = freePort();
    srv = await startEtcdns({ corefile, port, args: ["-dns.port", String(port)] });
    await waitClaimed(srv);
    assert.ok((await digShort(port, "worker1.tf.local")).length > 0, "worker1.tf.local answers");
    assert.equal((await dig(port, "worker9.tf.local")).status, "NXDOMAIN");
    // Another loopback address is not bound: with no listener there, dig gets no answer.
    const other = await new Deno.Command("dig", {
      args: ["@127.0.0.2", "-p", String(port), "+tries=1", "+time=1", "worker1.tf.local"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.doesNotMatch(new TextDecoder().decode(other.stdout), /status: /);
  } finally {
    await srv?.stop();
    await etcd.close();
  }
});
