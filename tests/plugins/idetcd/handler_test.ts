import assert from "node:assert/strict";
import { deleteKey, putText, startEtcd } from "../../helpers/etcd.ts";
import { waitFor } from "../../helpers/wait.ts";
import { type DnsMessage, Flag, Rcode, rcodeOf } from "../../../src/dns/message.ts";
import { defaultEtcdOptions } from "../../../src/etcd/options.ts";
import { IdetcdPlugin } from "../../../src/plugins/idetcd/handler.ts";
import { Pattern } from "../../../src/plugins/idetcd/pattern.ts";
import { SlotLayout } from "../../../src/plugins/idetcd/slots.ts";
import { SlotView } from "../../../src/plugins/idetcd/view.ts";
import { Fallthrough } from "../../../src/plugin/fallthrough.ts";
import { QueryContext } from "../../../src/plugin/query.ts";
import type { Logger } from "../../../src/util/log.ts";
import type { Directive } from "../../../src/corefile/types.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const addr: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 5353 };

function query(name: string, type: string): QueryContext {
  const request: DnsMessage = {
    id: 1,
    flags: Flag.RD,
    questions: [{ name, type, class: "IN" }],
    answers: [],
    authorities: [],
    additionals: [],
  };
  return new QueryContext(request, 40, "udp", addr, addr, ".");
}

async function ask(
  plugin: IdetcdPlugin,
  name: string,
  type = "A",
): Promise<DnsMessage | "next"> {
  const q = query(name, type);
  let passed = false;
  await plugin.handle(q, () => {
    passed = true;
    return Promise.resolve();
  });
  return passed ? "next" : q.response!;
}

Deno.test("idetcd answers A/AAAA/SRV from the view; NXDOMAIN with a 5 s SOA otherwise", async () => {
  const etcd = await startEtcd();
  const c = etcd.client();
  const pattern = Pattern.parse("worker{{.ID}}.tf.local.");
  const opts = { ...defaultEtcdOptions(), endpoints: [etcd.endpoint] };
  const view = new SlotView(opts, new SlotLayout(pattern, ""), quiet);
  try {
    await putText(c, "worker1.tf.local.", JSON.stringify({ ipv4: "10.0.0.1", ipv6: "fd00::1" }));
    await putText(c, "worker2.tf.local.", JSON.stringify({ ipv4: "10.0.0.2", port: "53" }));
    await putText(c, "other.tf.local.", "unrelated");
    await view.start();
    const make = (fallthrough: Fallthrough) =>
      new IdetcdPlugin({
        zones: ["."],
        pattern,
        view,
        ttl: 10,
        srv: [{ owner: "_etcd-server._tcp.tf.local.", port: 2380 }],
        fallthrough,
      });
    const plugin = make(Fallthrough.NONE);

    let r = await ask(plugin, "worker1.tf.local", "A");
    assert.ok(r !== "next");
    assert.ok(r.flags & Flag.AA);
    assert.deepEqual(r.answers.map((a) => [a.type, a.data, a.ttl]), [["A", "10.0.0.1", 10]]);
    r = await ask(plugin, "Worker1.TF.local", "AAAA");
    assert.ok(r !== "next");
    assert.deepEqual(r.answers.map((a) => [a.name, a.data]), [["Worker1.TF.local", "fd00::1"]]);

    // A name without that family: NODATA with the SOA.
    r = await ask(plugin, "worker2.tf.local", "AAAA");
    assert.ok(r !== "next");
    assert.equal(rcodeOf(r), Rcode.NOERROR);
    assert.equal(r.answers.length, 0);
    assert.equal(r.authorities[0].type, "SOA");

    // Unclaimed name of the pattern: authoritative NXDOMAIN, SOA with the short negative TTL.
    r = await ask(plugin, "worker3.tf.local", "A");
    assert.ok(r !== "next");
    assert.equal(rcodeOf(r), Rcode.NXDOMAIN);
    assert.ok(r.flags & Flag.AA);
    assert.equal(r.authorities[0].name, "tf.local.");
    assert.equal(r.authorities[0].ttl, 5);
    const soa = r.authorities[0];
    assert.ok(soa.type === "SOA");
    assert.equal(soa.data.minimum, 5);
    // ... unless fallthrough covers it.
    assert.equal(
      await ask(
        make(Fallthrough.parse({ args: [] } as unknown as Directive, "idetcd")),
        "worker3.tf.local",
      ),
      "next",
    );

    // Names that are not the pattern's go on down the chain.
    assert.equal(await ask(plugin, "other.tf.local"), "next");
    assert.equal(await ask(plugin, "example.org"), "next");

    // SRV lists every claimed name, with addresses in the additional section.
    r = await ask(plugin, "_etcd-server._tcp.tf.local", "SRV");
    assert.ok(r !== "next");
    const targets = r.answers.map((a) => a.type === "SRV" ? a.data.target : a.type);
    assert.deepEqual(targets, [
      "worker1.tf.local.",
      "worker2.tf.local.",
    ]);
    const srv = r.answers[0];
    assert.ok(srv.type === "SRV");
    assert.equal(srv.data.port, 2380);
    assert.equal(r.additionals.length, 3);

    // The view follows etcd: a new claim appears, a release disappears.
    await putText(c, "worker3.tf.local.", JSON.stringify({ ipv4: "10.0.0.3" }));
    await deleteKey(c, "worker1.tf.local.");
    await waitFor(
      "view to follow",
      () => view.get("worker3.tf.local.") && !view.get("worker1.tf.local."),
    );
    r = await ask(plugin, "worker3.tf.local");
    assert.ok(r !== "next");
    assert.equal(r.answers[0].data, "10.0.0.3");
  } finally {
    await view.close();
    await etcd.close();
  }
});
