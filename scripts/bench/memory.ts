/**
 * Resident memory of etcdns (and CoreDNS on the same Corefile) idle, after a query load, and
 * after a flood of malformed UDP packets (issue 12's memory bars).
 *
 * Each scenario starts a fresh server and measures, in MiB:
 *   idle    RSS once it has settled after start;
 *   peak    the process's highest RSS (VmHWM) by the end of the flood that follows;
 *   flood   RSS settled after --flood malformed packets (bar: under 1.2 x idle);
 *   load    RSS settled after dnsperf then ran valid queries for --seconds at --qps
 *           (with the CPU seconds the server spent on them, to weigh heap flags).
 *
 * Usage: scripts/deno run -A scripts/bench/memory.ts [--scenario whoami,hosts,cache-forward,example]
 *          [--peer] [--seconds 5] [--qps 20000] [--flood 200000] [--flood-pps N]
 *          [--v8-flags FLAGS]
 * The flood is closed-loop by default (as fast as the server answers); --flood-pps N sends
 * open-loop at N packets per second instead. --peer measures CoreDNS too (not for `example`,
 * whose plugins CoreDNS lacks); --v8-flags passes DENO_V8_FLAGS to etcdns, to compare heap
 * settings before putting one in scripts/flags.
 */
import { parseArgs } from "node:util";
import { startDnsmasq } from "../../tests/helpers/dnsmasq.ts";
import { putText, startEtcd } from "../../tests/helpers/etcd.ts";
import { START } from "../../tests/helpers/etcdns.ts";
import { floodMalformed } from "../../tests/helpers/flood.ts";
import { freePort } from "../../tests/helpers/ports.ts";
import { memoryStatus, toMiB, waitForSettledRss } from "./rss.ts";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "whoami,hosts,cache-forward,example" },
    peer: { type: "boolean", default: false },
    seconds: { type: "string", default: "5" },
    qps: { type: "string", default: "20000" },
    flood: { type: "string", default: "200000" },
    "flood-pps": { type: "string" },
    "v8-flags": { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
const QPS = Number(values.qps);
const FLOOD = Number(values.flood);
const FLOOD_PPS = values["flood-pps"] ? Number(values["flood-pps"]) : undefined;

/** One server to measure: how to start it on a Corefile, and when it is up. */
interface Server {
  name: string;
  command: string;
  args: (conf: string) => string[];
  ready: RegExp;
  env?: Record<string, string>;
}

const ETCDNS: Server = {
  name: "etcdns",
  command: START,
  args: (conf) => ["-conf", conf],
  ready: /^etcdns-\d/m,
  env: values["v8-flags"] ? { DENO_V8_FLAGS: values["v8-flags"] } : {},
};
/** CoreDNS 1.15, built once into a cache by scripts/peers. */
async function corednsPath(): Promise<string> {
  const out = await new Deno.Command(new URL("../peers", import.meta.url).pathname, {
    args: ["coredns"],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error("scripts/peers coredns failed");
  return new TextDecoder().decode(out.stdout).trim();
}

const PEER: Server = {
  name: "CoreDNS",
  command: values.peer ? await corednsPath() : "coredns",
  args: (conf) => ["-conf", conf],
  ready: /^CoreDNS-\d/m,
};

/** The figures of one server on one scenario, in KiB. */
interface Row {
  scenario: string;
  server: string;
  idle: number;
  load: number;
  peak: number;
  flood: number;
  floodPps: number;
  /** CPU seconds the server spent on the load. */
  loadCpu: number;
}

/** Starts `server` on `corefile`; resolves once it printed its banner; output is discarded. */
async function launch(server: Server, corefile: string, dir: string) {
  const conf = `${dir}/Corefile.${server.name}`;
  await Deno.writeTextFile(conf, corefile);
  const child = new Deno.Command(server.command, {
    args: server.args(conf),
    cwd: dir,
    env: { NO_COLOR: "1", ...server.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let seen = "";
  let up: () => void;
  const ready = new Promise<void>((resolve) => up = resolve);
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      if (seen.length < 64 * 1024) seen += chunk; // enough for the banner or an error
      if (server.ready.test(seen)) up();
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const exited = child.status.then((s) => {
    throw new Error(`${server.name} exited (${s.code}) before its banner:\n${seen}`);
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${server.name}: no banner in 30 s:\n${seen}`)), 30_000)
  );
  try {
    await Promise.race([ready, exited, timeout]);
  } catch (err) {
    await stop();
    throw err;
  }
  exited.catch(() => {});
  async function stop() {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
    await drained;
  }
  return { pid: child.pid, stop };
}

/** CPU time (user + system) `pid` has used, in seconds, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}

/** Runs dnsperf with `queries` (lines "NAME TYPE") for SECONDS at most QPS. */
async function load(port: number, queries: string): Promise<void> {
  const file = await Deno.makeTempFile({ suffix: ".queries" });
  await Deno.writeTextFile(file, queries);
  const args = ["-s", "127.0.0.1", "-p", String(port), "-d", file, "-l", String(SECONDS)];
  args.push("-Q", String(QPS), "-c", "4", "-q", "128", "-t", "2");
  const out = await new Deno.Command("dnsperf", { args, stdout: "piped", stderr: "piped" })
    .output();
  await Deno.remove(file);
  const text = new TextDecoder().decode(out.stdout);
  const lost = /Queries lost:\s+(\d+)/.exec(text)?.[1];
  const qps = /Queries per second:\s+([\d.]+)/.exec(text)?.[1];
  console.error(`  dnsperf: ${qps} queries/s, ${lost} lost`);
  if (out.code !== 0) throw new Error(`dnsperf failed:\n${text}`);
}

/** Measures `server` on `corefile` ({PORT} replaced) with `queries` as the load. */
async function measure(
  scenario: string,
  server: Server,
  corefile: string,
  queries: string,
): Promise<Row> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "etcdns-mem-" });
  const proc = await launch(server, corefile.replaceAll("{PORT}", String(port)), dir);
  try {
    console.error(`${scenario} / ${server.name} (pid ${proc.pid})`);
    // Idle: whatever start-up allocated and the first collections leave behind.
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await waitForSettledRss(proc.pid, { samples: 8, timeoutMs: 10_000 });
    // The flood comes first, so that what it leaves is compared with the idle figure alone.
    // Closed loop (at most 128 unanswered) unless --flood-pps is given: the server then handles
    // nearly every packet, where an open-loop flood mostly fills the kernel's socket buffer.
    const flood = await floodMalformed(
      port,
      FLOOD_PPS ? { count: FLOOD, pps: FLOOD_PPS } : { count: FLOOD, window: 32, unanswered: 128 },
    );
    const peak = memoryStatus(proc.pid).peakKiB;
    const afterFlood = await waitForSettledRss(proc.pid, { timeoutMs: 20_000 });
    const cpuBefore = cpuSeconds(proc.pid);
    await load(port, queries);
    const loadCpu = cpuSeconds(proc.pid) - cpuBefore;
    const afterLoad = await waitForSettledRss(proc.pid, { timeoutMs: 15_000 });
    const floodPps = Math.round(flood.sent / (flood.ms / 1000));
    console.error(
      `  idle ${toMiB(idle)}, flood peak ${toMiB(peak)}, after flood ${toMiB(afterFlood)} ` +
        `(${flood.sent} packets at ${floodPps}/s, ${flood.answered} answered), ` +
        `after load ${toMiB(afterLoad)} MiB (${loadCpu.toFixed(2)} CPU s)`,
    );
    return {
      scenario,
      server: server.name,
      idle,
      load: afterLoad,
      peak,
      flood: afterFlood,
      floodPps,
      loadCpu,
    };
  } finally {
    await proc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function hostsBlock(n: number): { corefile: string; queries: string } {
  const lines = Array.from({ length: n }, (_, i) => `        10.0.${i >> 8}.${i & 255} h${i}.test`);
  return {
    corefile: `.:{PORT} {\n    hosts {\n${lines.join("\n")}\n    }\n}\n`,
    queries: Array.from({ length: n }, (_, i) => `h${i}.test A\n`).join(""),
  };
}

/** Corefile.example on free ports, with its etcd endpoint pointed at `endpoint`. */
async function exampleCorefile(endpoint: string): Promise<string> {
  const text = await Deno.readTextFile(new URL("../../Corefile.example", import.meta.url));
  return text
    .replace(/^\. \{/m, ".:{PORT} {")
    .replaceAll("http://127.0.0.1:2379", endpoint)
    // Its queries are all answered in tf.local; were one forwarded, it stays on loopback.
    .replace("forward . /etc/resolv.conf", `forward . 127.0.0.1:${freePort()}`)
    .replaceAll("127.0.0.1:8080", `127.0.0.1:${freePort()}`)
    .replaceAll("127.0.0.1:8181", `127.0.0.1:${freePort()}`)
    .replaceAll("127.0.0.1:9153", `127.0.0.1:${freePort()}`);
}

const servers = values.peer ? [ETCDNS, PEER] : [ETCDNS];
const rows: Row[] = [];
for (const scenario of values.scenario.split(",")) {
  if (scenario === "whoami") {
    for (const s of servers) {
      rows.push(await measure(scenario, s, ".:{PORT} {\n    whoami\n}\n", "example.org A\n"));
    }
  } else if (scenario === "hosts") {
    const { corefile, queries } = hostsBlock(200);
    for (const s of servers) rows.push(await measure(scenario, s, corefile, queries));
  } else if (scenario === "cache-forward") {
    const upstream = await startDnsmasq({ args: ["--address=/bench.test/192.0.2.1"] });
    try {
      const corefile = `.:{PORT} {\n    cache 30 . {\n        success 4096\n    }\n` +
        `    forward . ${upstream.address}\n}\n`;
      const queries = Array.from({ length: 2000 }, (_, i) => `n${i}.bench.test A\n`).join("");
      for (const s of servers) rows.push(await measure(scenario, s, corefile, queries));
    } finally {
      await upstream.close();
    }
  } else if (scenario === "example") {
    const etcd = await startEtcd();
    try {
      await putText(
        etcd.client(),
        "/etcdhosts",
        Array.from({ length: 100 }, (_, i) => `10.9.0.${i} db${i}.tf.local`).join("\n") + "\n",
      );
      const queries = "worker1.tf.local A\n_etcd-server._tcp.tf.local SRV\n" +
        Array.from({ length: 100 }, (_, i) => `db${i}.tf.local A\n`).join("");
      rows.push(await measure(scenario, ETCDNS, await exampleCorefile(etcd.endpoint), queries));
    } finally {
      await etcd.close();
    }
  } else {
    throw new Error(`unknown scenario '${scenario}'`);
  }
}

console.log(
  "| scenario | server | idle MiB | flood peak MiB | after flood MiB | flood/idle | after load MiB | load CPU s |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${r.server} | ${toMiB(r.idle)} | ${toMiB(r.peak)} | ${toMiB(r.flood)} | ${
      (r.flood / r.idle).toFixed(2)
    } | ${toMiB(r.load)} | ${r.loadCpu.toFixed(2)} |`,
  );
}
