/**
 * Starting each kind of server the benchmark compares, on a free loopback port, fresh for every
 * measurement: the Deno UDP echo, dnsmasq, CoreDNS and etcdns (through scripts/start, so with
 * exactly the runtime flags the shipped binary has). Each start returns once the server answers,
 * and is registered with live.ts until stopped.
 */
import { startDnsmasq } from "../../tests/helpers/dnsmasq.ts";
import { ROOT, runtimeFlags, startEtcdns } from "../../tests/helpers/etcdns.ts";
import { freePort } from "../../tests/helpers/ports.ts";
import { udpExchange } from "../../tests/helpers/dns_client.ts";
import { makeQuery } from "../../tests/helpers/query.ts";
import { waitFor } from "../../tests/helpers/wait.ts";
import { startCoreDns, waitAnswering } from "../../tests/helpers/coredns.ts";
import { track } from "./live.ts";

/** A running server under test. */
export interface Server {
  /** The process whose tree's CPU time and RSS are the server's. */
  readonly pid: number;
  readonly port: number;
  /** How it was started, for the report (PORT and file names generic). */
  readonly command: string;
  /** Stops it (and anything started for it, such as an upstream); safe to call twice. */
  stop(): Promise<void>;
}

/** Waits until the echo, which has no TCP side, answers a UDP query on `port`. */
async function waitEchoing(port: number): Promise<void> {
  const probe = makeQuery("probe.invalid", "A");
  await waitFor(
    `the echo to answer on :${port}`,
    async () => (await udpExchange(port, probe, 300)) !== null,
    20_000,
    100,
  );
}

/**
 * The Deno UDP echo (scripts/bench/echo.ts): the ceiling Deno's UDP loop sets. With `floor`, the
 * echo with a timer and libc bound, under exactly etcdns's runtime flags: the runtime's memory floor.
 */
export async function startEcho(floor = false): Promise<Server> {
  const port = freePort();
  const flags = floor ? runtimeFlags() : ["--unstable-net", "--allow-net"];
  const extra = floor ? ["--floor"] : [];
  const child = new Deno.Command(`${ROOT}scripts/deno`, {
    args: ["run", "--quiet", ...flags, "scripts/bench/echo.ts", `${port}`, ...extra],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const stop = track(async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
  });
  try {
    await waitEchoing(port);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid,
    port,
    command: floor
      ? "scripts/deno run FLAGS scripts/bench/echo.ts PORT --floor (FLAGS: scripts/flags)"
      : "scripts/deno run --unstable-net --allow-net scripts/bench/echo.ts PORT",
    stop,
  };
}

/** dnsmasq answering from `hostsFile` only: no /etc/hosts, no upstream. */
export async function startDnsmasqHosts(hostsFile: string): Promise<Server> {
  const dm = await startDnsmasq({ args: [`--addn-hosts=${hostsFile}`] });
  const stop = track(() => dm.close());
  if (dm.pid === null) throw new Error("dnsmasq has no pid");
  return {
    pid: dm.pid,
    port: dm.port,
    command: "dnsmasq --no-daemon --port=PORT --listen-address=127.0.0.1 --bind-interfaces " +
      "--no-resolv --no-hosts --no-poll --conf-file=/dev/null --local-ttl=300 --addn-hosts=HOSTS",
    stop,
  };
}

/** A dnsmasq upstream that answers every name under `zone` with 192.0.2.1, TTL 300. */
export async function startUpstream(
  zone: string,
): Promise<{ address: string; stop(): Promise<void> }> {
  const dm = await startDnsmasq({ addresses: { [zone]: "192.0.2.1" } });
  return { address: dm.address, stop: track(() => dm.close()) };
}

/** CoreDNS `bin` on `corefile`, a template whose `{PORT}` becomes a free port. */
export async function startCorednsOn(bin: string, corefile: string): Promise<Server> {
  const cd = await startCoreDns(corefile, { bin });
  const stop = track(() => cd.stop());
  try {
    await waitAnswering([cd.port], "CoreDNS");
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: cd.pid, port: cd.port, command: "coredns -conf Corefile", stop };
}

/** etcdns through scripts/start on `corefile` (`{PORT}` becomes a free port), plus `args`. */
export async function startEtcdnsOn(corefile: string, args: string[] = []): Promise<Server> {
  const port = freePort();
  const proc = await startEtcdns({
    corefile,
    port,
    args: args.map((a) => a.replaceAll("{PORT}", String(port))),
    timeoutMs: 30_000,
  });
  const stop = track(async () => {
    await proc.stop();
  });
  try {
    await waitAnswering([port], "etcdns");
  } catch (err) {
    await stop();
    throw new Error(`${err}\n${proc.output.slice(-2000)}`);
  }
  return {
    pid: proc.pid,
    port,
    command: ["scripts/start -conf Corefile", ...args].join(" ").replaceAll("{PORT}", "PORT"),
    stop,
  };
}

/**
 * Whether etcdns accepts `corefile`: `scripts/start check` on it. Returns null when it does,
 * else the first line of what check said (e.g. `Unknown directive 'workers'`).
 */
export async function etcdnsRejects(corefile: string): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-bench-check-" });
  try {
    await Deno.writeTextFile(`${dir}/Corefile`, corefile.replaceAll("{PORT}", "1053"));
    const out = await new Deno.Command(`${ROOT}scripts/start`, {
      args: ["check", "-conf", `${dir}/Corefile`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) return null;
    const said = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return said.trim().split("\n")[0]?.replace(/^.*Corefile error: \S+ - /, "") ||
      `exit ${out.code}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
