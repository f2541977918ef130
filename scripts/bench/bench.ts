/**
 * `deno task bench`: queries per second of etcdns on loopback, measured with dnsperf.
 *
 * Scenarios run one after another against fresh processes, each bounded by dnsperf's time
 * limit (-l) and a query-rate cap (-Q). Results print as a table and are written, with the
 * exact commands, to docs/benchmarks.md.
 *
 * Usage: scripts/deno task bench [--seconds N] [--no-write]
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { values } = parseArgs({
  options: { seconds: { type: "string", default: "10" }, "no-write": { type: "boolean" } },
});
const SECONDS = Number(values.seconds);
const MAX_QPS = 200_000;

interface Result {
  name: string;
  qps: number;
  lost: number;
  latencyMs: number;
  command: string;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForLine(child: Deno.ChildProcess, pattern: RegExp): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`process exited before printing ${pattern}:\n${seen}`);
    seen += value;
    if (pattern.test(seen)) break;
  }
  // Keep draining so the child never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
}

async function dnsperf(name: string, port: number, queries: string): Promise<Result> {
  const file = await Deno.makeTempFile({ suffix: ".queries" });
  await Deno.writeTextFile(file, queries);
  const args = [
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    file,
    "-l",
    String(SECONDS),
    "-Q",
    String(MAX_QPS),
    "-c",
    "8",
    "-q",
    "256",
    "-t",
    "2",
  ];
  const command = `dnsperf ${args.join(" ").replace(file, "QUERIES")}`;
  console.error(`bench: ${name}: ${command} ...`);
  const out = await new Deno.Command("dnsperf", { args, stdout: "piped", stderr: "piped" })
    .output();
  await Deno.remove(file);
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(`dnsperf failed:\n${text}${new TextDecoder().decode(out.stderr)}`);
  }
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(text)?.[1] ?? NaN);
  const latencyMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(text)?.[1] ?? NaN) * 1000;
  return { name, qps, lost, latencyMs, command };
}

async function withProcess<T>(
  cmd: string,
  args: string[],
  ready: RegExp,
  fn: () => Promise<T>,
): Promise<T> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit", stdin: "null" })
    .spawn();
  try {
    await waitForLine(child, ready);
    return await fn();
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  }
}

async function benchEcho(): Promise<Result> {
  const port = freePort();
  return await withProcess(
    `${ROOT}scripts/deno`,
    ["run", "--quiet", "--allow-net", `${ROOT}scripts/bench/echo.ts`, String(port)],
    /echo listening/,
    () => dnsperf("Deno UDP echo (ceiling)", port, "example.org A\n"),
  );
}

async function benchEtcdns(name: string, corefile: string, queries: string): Promise<Result> {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/Corefile`;
  await Deno.writeTextFile(path, corefile.replaceAll("{PORT}", String(port)));
  try {
    return await withProcess(
      `${ROOT}scripts/start`,
      ["-conf", path],
      /etcdns-\d/,
      () => dnsperf(name, port, queries),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A dnsmasq on loopback that answers `*.bench.test` itself and forwards nowhere. */
async function withDnsmasq<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const port = freePort();
  const args = [
    "--keep-in-foreground",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    "--conf-file=/dev/null",
    "--pid-file=",
    "--user=root",
    "--local-ttl=300",
    "--address=/bench.test/192.0.2.1",
    "--log-facility=-",
  ];
  const child = new Deno.Command("dnsmasq", { args, stdout: "null", stderr: "null" }).spawn();
  try {
    return await fn(port);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const CACHE_QUERIES = Array.from({ length: 8 }, (_, i) => `n${i}.bench.test A`).join("\n") + "\n";

const scenarios: Array<() => Promise<Result>> = [
  benchEcho,
  () => benchEtcdns("etcdns whoami", ".:{PORT} {\n    whoami\n}\n", "example.org A\n"),
  () =>
    withDnsmasq((upstream) =>
      benchEtcdns(
        "etcdns cache hits (cache + forward to dnsmasq)",
        `.:{PORT} {\n    cache 30 . {\n        success 4096\n    }\n    forward . 127.0.0.1:${upstream}\n}\n`,
        CACHE_QUERIES,
      )
    ),
];

const results: Result[] = [];
for (const run of scenarios) results.push(await run());

const ceiling = results[0].qps;
const rows = results.map((r) =>
  `| ${r.name} | ${Math.round(r.qps)} | ${(r.qps / ceiling).toFixed(2)} | ${
    r.latencyMs.toFixed(3)
  } | ${r.lost} |`
);
const table = [
  "| scenario | queries/s | ratio to echo | avg latency (ms) | lost |",
  "|---|---|---|---|---|",
  ...rows,
].join("\n");
console.log(table);

if (!values["no-write"]) {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(
    /model name\s*:\s*(.+)/,
  )?.[1] ?? "unknown CPU";
  const doc = `# Benchmarks

Produced by \`scripts/deno task bench\` (scripts/bench/bench.ts) on ${
    new Date().toISOString().slice(0, 10)
  }:
${navigator.hardwareConcurrency} cores (${cpu}), Deno ${Deno.version.deno}, loopback only.
Each scenario is a fresh process measured by dnsperf for ${SECONDS} s, capped at ${MAX_QPS} queries/s.

The Deno UDP echo answers each datagram with itself: the ceiling Deno's UDP stack sets on this
machine. The ratio to it is how we judge etcdns's hot path (packet in, answer out).

${table}

Commands (QUERIES is a file of one query line per scenario, e.g. \`example.org A\`):

${results.map((r) => `- ${r.name}: \`${r.command}\``).join("\n")}

dnsperf and the server share the machine's cores, so absolute numbers are lower than on a
dedicated load generator, and a single run can swing by a fifth when anything else runs: compare
ratios over several runs on the same machine.
`;
  await Deno.writeTextFile(`${ROOT}docs/benchmarks.md`, doc);
  console.error("bench: wrote docs/benchmarks.md");
}
