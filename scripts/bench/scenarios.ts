/**
 * What the benchmark compares: one scenario per row of the table, with the same hosts file,
 * Corefiles and queries for CoreDNS and etcdns. The fixtures (files, CoreDNS's binary, the
 * `workers` probe, an etcd for Corefile.example) are prepared once per run, lazily.
 */
import { ROOT } from "../../tests/helpers/etcdns.ts";
import { startEtcd } from "../../tests/helpers/etcd.ts";
import { corednsPath } from "../../tests/helpers/coredns.ts";
import { freePort } from "../../tests/helpers/ports.ts";
import { track } from "./live.ts";
import {
  etcdnsRejects,
  type Server,
  startCorednsOn,
  startDnsmasqHosts,
  startEcho,
  startEtcdnsOn,
  startUpstream,
} from "./servers.ts";

/** The query mixes; each is a dnsperf data file, sent round-robin. */
export type QueryMix = "hosts" | "cache" | "whoami" | "example";

/** Which loads a scenario takes (Corefile.example logs every query, so it gets no flood). */
export interface Loads {
  peak: boolean;
  cpu: boolean;
  p99: boolean;
}

/** One row of the table. */
export interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly family: "echo" | "dnsmasq" | "coredns" | "etcdns";
  readonly queries: QueryMix;
  readonly loads: Loads;
  /** The CoreDNS scenario on the same Corefile, for the ratios and the RSS bar. */
  readonly peer?: string;
  /** Why this scenario cannot run here, or null. */
  unavailable(fx: Fixtures): Promise<string | null>;
  start(fx: Fixtures): Promise<Server>;
}

const ALL: Loads = { peak: true, cpu: true, p99: true };
const IDLE_ONLY: Loads = { peak: false, cpu: false, p99: false };

/** `count` hosts(5) lines, h0.bench.test ... */
const HOSTS_ENTRIES = 200;
const HOSTS_QUERIED = ["h0", "h37", "h74", "h111", "h148", "h185", "h199", "h3"];

/** Shared by every scenario of a run. */
export class Fixtures {
  readonly hostsFile: string;
  #corednsBin: { path: string } | { skip: string } | null = null;
  #rejects = new Map<string, Promise<string | null>>();
  #etcd: Promise<string> | null = null;

  constructor(readonly dir: string, readonly workersLine: string) {
    this.hostsFile = `${dir}/hosts`;
  }

  /** Creates the fixture directory's files. */
  static async create(workersLine: string): Promise<Fixtures> {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-bench-" });
    const fx = new Fixtures(dir, workersLine);
    const hosts = Array.from(
      { length: HOSTS_ENTRIES },
      (_, i) => `192.0.${2 + (i >> 8)}.${i & 255} h${i}.bench.test`,
    );
    await Deno.writeTextFile(fx.hostsFile, hosts.join("\n") + "\n");
    const mixes: Record<QueryMix, string[]> = {
      hosts: HOSTS_QUERIED.map((h) => `${h}.bench.test A`),
      cache: Array.from({ length: 8 }, (_, i) => `n${i}.cache.test A`),
      whoami: ["whoami.bench.test A"],
      example: ["worker1.tf.local A"],
    };
    for (const [mix, lines] of Object.entries(mixes)) {
      await Deno.writeTextFile(fx.queriesFile(mix as QueryMix), lines.join("\n") + "\n");
    }
    return fx;
  }

  /** The dnsperf data file of a query mix. */
  queriesFile(mix: QueryMix): string {
    return `${this.dir}/${mix}.queries`;
  }

  /** The query names of a mix (for the warm-up). */
  async queryNames(mix: QueryMix): Promise<string[][]> {
    const text = await Deno.readTextFile(this.queriesFile(mix));
    return text.trim().split("\n").map((l) => l.split(" "));
  }

  /** CoreDNS's binary (scripts/peers coredns builds it once), or why there is none. */
  corednsBin(): { path: string } | { skip: string } {
    this.#corednsBin ??= corednsPath();
    return this.#corednsBin;
  }

  /** Null when etcdns accepts `corefile`, else why not; asked once per Corefile. */
  rejects(corefile: string): Promise<string | null> {
    const text = this.fill(corefile, "127.0.0.1:1");
    if (!this.#rejects.has(text)) this.#rejects.set(text, etcdnsRejects(text));
    return this.#rejects.get(text)!;
  }

  /** An etcd for Corefile.example, started on first use and stopped with everything else. */
  etcdEndpoint(): Promise<string> {
    this.#etcd ??= startEtcd().then((etcd) => {
      track(() => etcd.close());
      return etcd.endpoint;
    });
    return this.#etcd;
  }

  /** A Corefile template with `{HOSTS}` and `{UPSTREAM}` filled in (`{PORT}` stays). */
  fill(corefile: string, upstream = ""): string {
    return corefile.replaceAll("{HOSTS}", this.hostsFile).replaceAll("{UPSTREAM}", upstream);
  }

  /** Removes the fixture files. */
  async remove(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

// Loopback only, as every Corefile we show: the bench never opens a resolver to the network.
const HOSTS = ".:{PORT} {\n    bind 127.0.0.1\n    hosts {HOSTS}\n}\n";
const WHOAMI = ".:{PORT} {\n    bind 127.0.0.1\n    whoami\n}\n";
const CACHE = ".:{PORT} {\n    bind 127.0.0.1\n    cache 30 . {\n        success 4096\n    }\n" +
  "    forward . {UPSTREAM}\n}\n";

/** The Corefiles CoreDNS and etcdns both run, for the report. */
export const COREFILES: Readonly<Record<string, string>> = {
  hosts: HOSTS,
  cache: CACHE,
  whoami: WHOAMI,
};

/** HOSTS with a `workers` line (default: the run's, e.g. `workers 2`) at the top of the block. */
function withWorkers(fx: Fixtures, line = fx.workersLine): string {
  return HOSTS.replace("{\n", `{\n    ${line}\n`);
}

/**
 * Corefile.example as shipped, pointed at the bench's etcd, moved off fixed ports, and forwarding
 * to `upstream` (a loopback dnsmasq) instead of the host's resolvers: no bench packet leaves the
 * machine, not even the readiness probe, which the example's zones do not answer.
 */
async function exampleCorefile(fx: Fixtures, upstream: string): Promise<string> {
  const endpoint = await fx.etcdEndpoint();
  const text = await Deno.readTextFile(`${ROOT}Corefile.example`);
  const moved = text
    .replaceAll("http://127.0.0.1:2379", endpoint)
    .replace("forward . /etc/resolv.conf", `forward . ${upstream}`)
    .replace(
      /(\n\s*(?:health|ready|prometheus) 127\.0\.0\.1:)\d+/g,
      (_, head) => head + freePort(),
    );
  if (!moved.includes(endpoint) || !moved.includes(`forward . ${upstream}`)) {
    throw new Error(
      "Corefile.example no longer names http://127.0.0.1:2379 and forwards to /etc/resolv.conf; " +
        "update the bench",
    );
  }
  return moved;
}

async function coredns(fx: Fixtures, corefile: string): Promise<Server> {
  const bin = fx.corednsBin();
  if (!("path" in bin)) throw new Error(bin.skip);
  return await startCorednsOn(bin.path, corefile);
}

/** Starts an upstream dnsmasq for cache.test, then `server` forwarding to it; stops both. */
async function withUpstream(start: (upstream: string) => Promise<Server>): Promise<Server> {
  const up = await startUpstream("cache.test");
  try {
    const server = await start(up.address);
    return {
      ...server,
      stop: async () => {
        await server.stop();
        await up.stop();
      },
    };
  } catch (err) {
    await up.stop();
    throw err;
  }
}

const always = () => Promise.resolve(null);
const needsCoredns = (fx: Fixtures) => {
  const bin = fx.corednsBin();
  return Promise.resolve("path" in bin ? null : bin.skip);
};

/** Every scenario, in table order. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: "echo",
    label: "Deno UDP echo",
    family: "echo",
    queries: "hosts",
    loads: ALL,
    unavailable: always,
    start: () => startEcho(),
  },
  {
    // Idle only: what the runtime holds before etcdns's own code, against the idle RSS bar.
    id: "floor",
    label: "Deno floor (the echo, a timer, libc; etcdns's flags)",
    family: "echo",
    queries: "hosts",
    loads: IDLE_ONLY,
    unavailable: always,
    start: () => startEcho(true),
  },
  {
    id: "dnsmasq",
    label: "dnsmasq (hosts file)",
    family: "dnsmasq",
    queries: "hosts",
    loads: ALL,
    unavailable: always,
    start: (fx) => startDnsmasqHosts(fx.hostsFile),
  },
  {
    id: "coredns-hosts",
    label: "CoreDNS `hosts`",
    family: "coredns",
    queries: "hosts",
    loads: ALL,
    unavailable: needsCoredns,
    start: (fx) => coredns(fx, fx.fill(HOSTS)),
  },
  {
    id: "etcdns-hosts",
    // One thread: the bar against the echo is the single-threaded hot path (the default would
    // be one thread per core).
    label: "etcdns `hosts`, `workers 1`",
    family: "etcdns",
    queries: "hosts",
    loads: ALL,
    peer: "coredns-hosts",
    unavailable: always,
    start: (fx) => startEtcdnsOn(fx.fill(withWorkers(fx, "workers 1"))),
  },
  {
    id: "etcdns-hosts-nocoalesce",
    // The same, answering each datagram at once: what the default's coalescing trades.
    label: "etcdns `hosts`, `workers 1`, `coalesce off`",
    family: "etcdns",
    queries: "hosts",
    loads: { peak: false, cpu: true, p99: false },
    peer: "coredns-hosts",
    unavailable: always,
    start: (fx) =>
      startEtcdnsOn(fx.fill(withWorkers(fx, "workers 1 {\n        coalesce off\n    }"))),
  },
  {
    id: "etcdns-hosts-twobind",
    // A node's usual bind (loopback and its private address), the load on one of them: the
    // thread's one loop reads both sockets (src/net/listener_loop.ts).
    label: "etcdns `hosts`, `workers 1`, `bind` two addresses",
    family: "etcdns",
    queries: "hosts",
    loads: { peak: false, cpu: true, p99: false },
    peer: "coredns-hosts",
    unavailable: always,
    start: (fx) =>
      startEtcdnsOn(
        fx.fill(withWorkers(fx, "workers 1").replace("bind 127.0.0.1", "bind 127.0.0.1 127.0.0.2")),
      ),
  },
  {
    id: "etcdns-hosts-workers",
    label: "etcdns `hosts`, `workers 2`",
    family: "etcdns",
    queries: "hosts",
    loads: ALL,
    peer: "coredns-hosts",
    unavailable: (fx) => fx.rejects(withWorkers(fx)),
    start: (fx) => startEtcdnsOn(fx.fill(withWorkers(fx))),
  },
  {
    id: "coredns-cache",
    label: "CoreDNS `cache`+`forward` (hits)",
    family: "coredns",
    queries: "cache",
    loads: ALL,
    unavailable: needsCoredns,
    start: (fx) => withUpstream((up) => coredns(fx, fx.fill(CACHE, up))),
  },
  {
    id: "etcdns-cache",
    label: "etcdns `cache`+`forward` (hits)",
    family: "etcdns",
    queries: "cache",
    loads: ALL,
    peer: "coredns-cache",
    unavailable: always,
    start: (fx) => withUpstream((up) => startEtcdnsOn(fx.fill(CACHE, up))),
  },
  {
    id: "coredns-whoami",
    label: "CoreDNS `whoami`",
    family: "coredns",
    queries: "whoami",
    loads: ALL,
    unavailable: needsCoredns,
    start: (fx) => coredns(fx, WHOAMI),
  },
  {
    id: "etcdns-whoami",
    label: "etcdns `whoami`",
    family: "etcdns",
    queries: "whoami",
    loads: ALL,
    peer: "coredns-whoami",
    unavailable: always,
    start: () => startEtcdnsOn(WHOAMI),
  },
  {
    id: "etcdns-example",
    label: "etcdns Corefile.example",
    family: "etcdns",
    queries: "example",
    loads: { peak: false, cpu: true, p99: false },
    unavailable: always,
    start: (fx) =>
      withUpstream(async (up) =>
        startEtcdnsOn(await exampleCorefile(fx, up), ["-dns.port", "{PORT}"])
      ),
  },
];
