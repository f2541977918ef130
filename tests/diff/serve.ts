/**
 * Starts the differential suite's servers by hand, to replay a reported difference with dig:
 * `scripts/deno run -A tests/diff/serve.ts` prints each block's CoreDNS and etcdns ports and runs
 * until Ctrl-C (or for DIFF_SERVE_SECONDS, default 600).
 */
import { startDnsmasq } from "../helpers/dnsmasq.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { distinctPorts } from "../helpers/ports.ts";
import { corednsPath, startCoreDns } from "../helpers/coredns.ts";
import { BLOCKS, corefile, withPorts } from "./corefile.ts";
import { hostsText, UPSTREAM_ARGS } from "./corpus.ts";
import { startCrafted } from "./_crafted.ts";

const peer = corednsPath();
if ("skip" in peer) {
  console.error(peer.skip);
  Deno.exit(3);
}
const dir = await Deno.makeTempDir({ prefix: "etcdns-diff-" });
await Deno.writeTextFile(`${dir}/hosts`, hostsText());
const dm = await startDnsmasq({ args: UPSTREAM_ARGS, ttl: 300, forkTcp: true });
const hole = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const holePort = (hole.addr as Deno.NetAddr).port;
const crafted = startCrafted();
const ports = distinctPorts(BLOCKS.length * 2 + 1, [dm.port, holePort, crafted.port]);
const text = corefile(`${dir}/hosts`, dm.port, ports.pop()!, holePort, crafted.port);
const cPorts = ports.slice(0, BLOCKS.length);
const ePorts = ports.slice(BLOCKS.length);
const c = await startCoreDns(withPorts(text, cPorts), { bin: peer.path, answering: cPorts });
const e = await startEtcdns({ corefile: withPorts(text, ePorts), port: ePorts[0] });
console.log(withPorts(text, ePorts));
BLOCKS.forEach((b, i) => console.log(`${b}: coredns ${cPorts[i]}  etcdns ${ePorts[i]}`));
console.log(`dnsmasq ${dm.port}`);
const done = Promise.withResolvers<void>();
Deno.addSignalListener("SIGINT", () => done.resolve());
const timer = setTimeout(
  () => done.resolve(),
  Number(Deno.env.get("DIFF_SERVE_SECONDS") ?? "600") * 1000,
);
await done.promise;
clearTimeout(timer);
await c.stop();
await e.stop();
await dm.close();
hole.close();
crafted.close();
await Deno.remove(dir, { recursive: true });
Deno.exit(0);
