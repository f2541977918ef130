/**
 * The hot path in-process: feeds query packets straight into `answerPacket` with routers built
 * from Corefiles (no sockets on the measured path), and reports CPU time and bytes allocated per
 * query, so changes to the per-packet work can be compared without network noise.
 *
 *   deno run -A --v8-flags=--expose-gc,--min-semi-space-size=128,--max-semi-space-size=128 \
 *     scripts/bench/hotpath.ts \
 *     [SCENARIO...] [--rounds N] [--queries N]
 *
 * Scenarios: hosts, whoami, cache (cache+forward, warm), full (Corefile.example's chain minus
 * idetcd and etcdhosts, forwarding to an in-process hosts block). Results go to stderr; the
 * `log` plugin's lines go to stdout (send it to /dev/null).
 */
import { cpuUsage } from "node:process";
import { parseCorefile } from "../../src/corefile/mod.ts";
import { buildConfig, loadPlugins } from "../../src/server/config.ts";
import { answerPacket, type PacketSource } from "../../src/server/responder.ts";
import type { ZoneRouter } from "../../src/server/router.ts";
import { ResourcePool } from "../../src/plugin/resources.ts";
import { PLUGINS } from "../../src/plugins/registry.ts";
import { distinctPorts } from "../../tests/helpers/ports.ts";
import { makeQuery } from "../../tests/helpers/query.ts";

interface Scenario {
  corefile: (ports: number[]) => string;
  /** Query names, cycled through. */
  names: string[];
}

const HOSTS = "hosts {\n 192.0.2.1 www.example.org\n 192.0.2.2 api.example.org\n}";
const SCENARIOS: Record<string, Scenario> = {
  hosts: {
    corefile: ([p]) => `.:${p} {\n bind 127.0.0.1\n ${HOSTS}\n}`,
    names: ["www.example.org", "API.example.org"],
  },
  whoami: {
    corefile: ([p]) => `.:${p} {\n bind 127.0.0.1\n whoami\n}`,
    names: ["www.example.org", "whoami.example"],
  },
  cache: {
    corefile: ([p, up]) =>
      `.:${p} {\n bind 127.0.0.1\n cache 30\n forward . 127.0.0.1:${up}\n}\n` +
      `.:${up} {\n bind 127.0.0.1\n ${HOSTS}\n}`,
    names: ["www.example.org", "api.example.org"],
  },
  full: {
    corefile: ([p, up, metrics]) =>
      `.:${p} {\n bind 127.0.0.1\n` +
      ` acl {\n  allow net 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8 ::1 fc00::/7\n  block\n }\n` +
      ` ratelimit {\n  rate 50\n  allow 127.0.0.0/8 ::1\n }\n` +
      ` forward . 127.0.0.1:${up} {\n  max_fails 2\n  expire 20s\n  policy random\n }\n` +
      ` cache 30 . {\n  success 4096\n }\n errors\n log\n prometheus 127.0.0.1:${metrics}\n}\n` +
      `.:${up} {\n bind 127.0.0.1\n ${HOSTS}\n}`,
    names: ["www.example.org", "api.example.org"],
  },
};

const args = [...Deno.args];
function option(name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  args.splice(at, 2);
  return value;
}
const rounds = option("--rounds", 5);
const queries = option("--queries", 20000);
const chosen = args.length > 0 ? args : Object.keys(SCENARIOS);

const gc = (globalThis as { gc?: () => void }).gc;
const local: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 53 };
const source: PacketSource = {
  proto: "udp",
  remote: { transport: "udp", hostname: "127.0.0.1", port: 40000 },
  local,
};

for (const name of chosen) {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const ports = distinctPorts(3);
  const pool = new ResourcePool();
  const parsed = parseCorefile(scenario.corefile(ports), { file: `<${name}>`, dnsPort: 53 });
  await loadPlugins(parsed.blocks, PLUGINS);
  const built = buildConfig(parsed.blocks, {
    plugins: PLUGINS,
    corefilePath: "",
    resources: pool.begin(),
  });
  for (const [listener, router] of built.routers) listener.stage(router, built.udp);
  await pool.start();
  await pool.commit();
  const router = [...built.routers].find(([l]) => l.port === ports[0])![1] as ZoneRouter;
  source.local = { ...local, port: ports[0] };
  source.server = `dns://127.0.0.1:${ports[0]}`; // as the listener passes it

  const packets = scenario.names.map((n, i) => makeQuery(n, "A", { id: i + 1, edns: 1232 }));
  // Warm up (and fill the cache) through the async path, then check every answer is an answer.
  for (let i = 0; i < 2000; i++) {
    const reply = await answerPacket(packets[i % packets.length], source, router);
    if (reply === null || (reply[3] & 0xf) !== 0) throw new Error(`${name}: no NOERROR answer`);
  }
  const times: number[] = [];
  let async = 0;
  const allocs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    gc?.();
    const heapBefore = Deno.memoryUsage().heapUsed;
    const t0 = cpuUsage();
    for (let i = 0; i < queries; i++) {
      const reply = answerPacket(packets[i & 1 ? 1 % packets.length : 0], source, router);
      if (reply instanceof Promise) {
        async++;
        await reply;
      } // a promise on the way
    }
    const t1 = cpuUsage(t0);
    allocs.push((Deno.memoryUsage().heapUsed - heapBefore) / queries);
    times.push(((t1.user + t1.system) * 1e3) / queries);
  }
  times.sort((a, b) => a - b);
  allocs.sort((a, b) => a - b);
  console.error(
    `${name.padEnd(7)} ${times[rounds >> 1].toFixed(0).padStart(6)} ns CPU/query (min ${
      times[0].toFixed(0)
    })  ${allocs[rounds >> 1].toFixed(0).padStart(6)} B/query  ${
      (100 * async / (rounds * queries)).toFixed(0)
    }% async${gc ? "" : " (no --expose-gc)"}`,
  );
  await pool.close();
}
