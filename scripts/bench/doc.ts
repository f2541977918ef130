/**
 * docs/benchmarks.md: the table with the machine it ran on, the versions, the exact commands and
 * Corefiles, every round's figures, and how to read them.
 */
import { COMMANDS, SERVER_COMMANDS } from "./measure.ts";
import { type Outcome, roundsTable, table } from "./report.ts";
import { COREFILES, type Fixtures } from "./scenarios.ts";

/** How the run was asked for. */
export interface RunInfo {
  /** The bench's own arguments, as given. */
  args: string[];
  rounds: number;
  seconds: number;
  rate: number;
  peakCap: number;
  settle: number;
  workersLine: string;
  /** A line put at the top, e.g. that the figures are provisional. */
  note?: string;
  started: Date;
  /** The load average when the run started (1, 5, 15 min). */
  loadAverage: string;
}

/** `NAME VERSION`, the version being the first x.y[.z] that `cmd ARGS` prints. */
async function version(name: string, cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return `${name} ${/\d+\.\d+(\.\d+)?/.exec(text)?.[0] ?? "(unknown version)"}`;
  } catch {
    return `${name} (not installed)`;
  }
}

/** The load average now, from /proc/loadavg. */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(", ");
  } catch {
    return "unknown";
  }
}

/** Cores, CPU model, memory and kernel of this machine. */
async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const mem = Deno.systemMemoryInfo?.().total ?? 0;
  return `${navigator.hardwareConcurrency} cores (${model}), ${
    Math.round(mem / 2 ** 30)
  } GiB RAM, Linux ${Deno.osRelease()}`;
}

/** The run's arguments as a shell would take them, without those that only name outputs. */
function shownArgs(args: string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (/^--(note|json|out)$/.test(args[i])) {
      i++; // and its value
    } else if (!/^--(note|json|out)=/.test(args[i])) {
      shown.push(/^[\w.,/=:-]+$/.test(args[i]) ? args[i] : `'${args[i].replaceAll("'", "'\\''")}'`);
    }
  }
  return shown.map((a) => " " + a).join("");
}

/** The whole page. */
export async function benchmarksPage(
  run: RunInfo,
  outcomes: Outcome[],
  fx: Fixtures,
): Promise<string> {
  const bin = outcomes.some((o) => o.scenario.family === "coredns") ? fx.corednsBin() : null;
  const coredns = bin && "path" in bin ? await version("CoreDNS", bin.path, ["-version"]) : null;
  const versions = [
    `Deno ${Deno.version.deno}`,
    await version("dnsmasq", "dnsmasq", ["--version"]),
    coredns ?? "CoreDNS (not run)",
    await version("dnsperf", "dnsperf", ["-h"]),
  ].join(", ");
  const corefiles = Object.entries(COREFILES)
    .map(([name, text]) => `${name}:\n\n\`\`\`text\n${text}\`\`\``)
    .join("\n\n");
  return `# Benchmarks

${run.note ? `> ${run.note}\n\n` : ""}Produced by \`scripts/deno task bench${
    shownArgs(run.args)
  }\` (scripts/bench/) on ${run.started.toISOString().slice(0, 16).replace("T", " ")} UTC.
Machine: ${await machine()}; load average at the start ${run.loadAverage}. Versions: ${versions}.
Loopback only; dnsperf shares the cores with the server under test.

${
    run.rounds === 1
      ? "One round"
      : `${run.rounds} interleaved rounds`
  }: in each round every server runs once, as a fresh process, in an order rotated by one per
round; each figure below is the median of the rounds. Per server and
round: RSS idle (after start and ${run.settle} s of rest); peak queries per second (dnsperf for
${run.seconds} s, capped at ${run.peakCap}); the server's CPU time (utime + stime of its process
tree, from /proc) per answered query while dnsperf sends a steady ${run.rate} queries/s for
${run.seconds} s, after the peak run or, in a row without one, after up to 3 s of that rate
unmeasured ("warm"), so that V8 has compiled the hot code either way; p99 latency while dnsperf sends half of that round's peak (lost queries count
as slowest; dnsperf writes its line per query to a file, read after the run, so that no third
program is busy on the cores meanwhile); RSS right after these loads, and again after
${run.settle} s of rest ("settled").

${table(outcomes, run.rate)}

Ratios: × echo is the peak over the Deno UDP echo's (the ceiling Deno's UDP loop sets on this
machine); × CoreDNS is over CoreDNS on the same Corefile; × dnsmasq is CPU per query over dnsmasq's.
The bars are issue 12's: idle RSS ≤ 40 MB serving whoami or hosts (one worker) and ≤ 60 MB on
Corefile.example;
after load ≤ CoreDNS's RSS on the same Corefile; after the peak run's flood back under 1.2× idle;
\`hosts\` peak ≥ 0.9× the echo with one worker and, with \`${run.workersLine}\`, ≥ 1.5× CoreDNS's;
CPU per query at the fixed rate ≤ 1.5× dnsmasq's; p99 at half of peak ≤ 1 ms.
Corefile.example logs every query (its \`log\`), so it gets only the fixed-rate load. "Mean ms at
that rate" is dnsperf's average latency in the fixed-rate run: what etcdns's default \`coalesce
100us\` (src/plugins/workers) trades for CPU; the \`coalesce off\` row shows the other side.

## How it ran

Servers (PORT free per process; HOSTS a ${"hosts(5)"} file of 200 names, 8 of them queried):

${[...SERVER_COMMANDS].sort().map((c) => `- ${c.replace(/: /, ": `")}\``).join("\n")}

Load (QUERIES is one \`NAME TYPE\` line per query, sent round-robin):

${[...COMMANDS].map(([what, cmd]) => `- ${what}: \`${cmd}\``).join("\n")}

The same Corefiles for CoreDNS and etcdns (\`workers\` adds \`${run.workersLine}\` to \`hosts\`'s
block; the two-address row binds \`127.0.0.1 127.0.0.2\` and dnsperf asks the first; the cache's upstream is a loopback dnsmasq answering \`*.cache.test\`; Corefile.example runs
as shipped with its etcd endpoint, health, ready and prometheus moved to the bench's own etcd and
free ports, its \`forward\` to a loopback dnsmasq instead of the host's resolvers, so that no packet
leaves the machine, and \`-dns.port PORT\`):

${corefiles}

## Every round

${roundsTable(outcomes)}

## Reading the figures

dnsperf and the server share the machine's cores, so absolute numbers are lower than on a
dedicated load generator, and a round can swing by a fifth when anything else runs; the medians
of interleaved rounds and the ratios within one run are what to compare. CPU per query at a fixed
rate does not depend on how fast dnsperf is, so it is the steadiest figure on a shared machine.

History: the first server core measured whoami at 0.32 of the echo (29k queries/s). A
hand-written wire fast path for the common query and reply shapes (src/dns/*_fast.ts,
byte-identical to dns-packet and fuzz-tested against it), a chain that allocates no promise per
synchronous plugin, and unawaited UDP sends brought repeated A/B runs on a loaded machine to
0.60-0.80, and a quiet machine to 0.99. Per packet, \`respond()\` went from about 8 us to 3.4
us. Native sockets (recvmmsg/sendmmsg) and the hot-path work then took the hosts row to 2.3x the
echo; coalescing (\`workers { coalesce }\`) took CPU per query at 15k queries/s from about 2.1x
dnsmasq's to 1.3x with one thread, and gathering a light load on one thread
(\`workers { spread auto }\`, the default) did the same for two threads, where each had been
woken for every other datagram. The p99 at half of peak came down (medians of the etcdns rows
1.0-1.5 ms before, 0.6-1.2 ms after, in full runs on this machine) when the loop, under load,
stopped giving the event loop its turn through Deno's thread pool (a wait that woke another
thread: 1 in 20 took 0.3 to over 3 ms) and took it on its own thread instead
(src/net/loop_turn.ts); a 1 MiB receive queue stopped the drops of a thread descheduled for a
few milliseconds. On Linux 6.12 and later a serving thread asks for 0.1 ms time slices
(src/net/thread_slice.ts), so that it waits less for a CPU when it wakes: at 85,000 queries/s with
dnsperf on the same cores, hosts with one thread waited 70 ms per 6 s to run instead of 376
(medians of 6 interleaved runs), and its p99 went from 1.0 to 0.57 ms. The cache row's CPU per
query came down (17.1 to 16.0 us in full runs; by perf, a fifth of the process's CPU) when V8 ran
without allocation-site pretenuring (scripts/flags): the first misses, a hundred queries waiting on
the upstream across a young collection, had made V8 allocate every later query's objects in the
old generation, with a full collection every 2-3 s. And the threads now tell each other their
loads (src/net/thread_loads.ts) before they gather: each used to take its own load times the
thread count for the group's, and a 15,000 queries/s whoami load spread over two threads (0.40 of
a core summed, 0.27 on one) stayed spread unless the split was uneven enough; by hand, right after a
peak run, whoami at that rate measured 11.6-28.9 us per query before (5 runs) and 12.8-15.7 after.
Spread, a moderate load can still cost twice what it costs gathered (each thread woken for every
datagram or two): right after a peak run, cache hits at 15,000 queries/s held two threads at 0.29
of a core each, 0.58 summed, above the 0.45 under which they gathered, where one thread carries
them at 0.28. The main thread now tries gathering a summed load under 0.75 of a core, and backs off
(2 s, doubling to 64 s) after each try that leaves it busier than half a core, unless the load falls
under 0.8 of the one that failed (else a peak's failed tries kept whoami's 15,000 queries/s after
it spread for half the run); and a thread that has just spread waits a second before it gathers,
since until the others report what they took on the sum reads light (the group flapped at every
look during a peak's first seconds). The same bench rows
on the same machine, old code against new (2 rounds each, then 3 more of hosts and whoami,
interleaved): the cache row 40.8 against 20.8 us per query; whoami 18.9-36.9 (five rounds) against
18.3-20.1; hosts with two threads 19.2-44.4 against 19.6-24.4; the p99 at half of peak no worse
(0.9-2.5 ms against 1.0-2.0 ms, in an hour when most rounds of every row missed 1 ms).

The table measures cache hits; a miss is forwarded, and forwarding had fallen behind CoreDNS's.
By hand, \`forward\` alone (one thread, no cache) to a dnsmasq on loopback at 5,000 queries/s
cost 114-157 us of CPU per query with a mean latency of 18-29 ms, where CoreDNS took 127-140 us and
0.21-0.26 ms (three interleaved runs each): each upstream socket waited for its reply in poll(2) on
Deno's thread pool, two thread hops per reply, and the replies queued behind the hops. The
thread's listener now watches those sockets with its own (src/net/readiness.ts) and runs a woken
exchange at once, in a turn of the event loop: 100-142 us and 0.46-0.58 ms, p50 0.38 ms
(tests/e2e/forward_load_test.ts keeps the median under 5 ms). Replies are read without
dns-packet (src/dns/decode_reply.ts), which also keeps dns-packet and Deno's npm layer out of a
forwarding node's memory.

A node usually binds more than one address (Corefile.example suggests loopback and the node's
private address), and each address was a socket with a loop of its own on every thread. Two loops on
one thread could neither linger nor gather (each would block the other), so every read was followed
by a wait on Deno's thread pool: by hand, hosts on one thread with a second, idle, address bound
cost 56-63 us of CPU per query at 15,000 queries/s, against 18-21 with one address (three
interleaved runs each). One loop per thread now reads all of its sockets (src/net/listener_loop.ts):
18.7-19.2 us with the load on one address, and 21-29 with it split over both (60-63 before); the
row with two addresses measures it in every run.

## Where the memory goes

The RSS bars (40 MB idle for whoami or hosts, 60 MB for Corefile.example) are below what the
runtime itself holds when run as here, with \`deno run\` (measured on this machine, Deno 2.9.6):

| process, idle | RSS | of it, pages of the deno binary | anonymous |
|---|---|---|---|
| \`deno run\` of a script holding one UDP socket, outside any project | 34 MB | 25 MB | 9 MB |
| the same inside this repository (deno.json, lock file) | 32-35 MB | 23 MB | 7 MB |
| etcdns, whoami, \`workers 1\` | 49 MB | 33 MB | 16 MB |
| a script whose Deno worker thread holds nothing, per such thread | +11 MB | | |
| a script that imports npm:etcd3 (the first version's etcd client) and reads one key | 63 MB | 38 MB | 24 MB |
| a script that reads one key through etcd's JSON gateway with fetch() | 41 MB | 28 MB | 12 MB |

The table's floor row measures that runtime in every run: the echo, with one timer armed and libc
bound through src/net/libc.ts (the two things every etcdns process does before its own code
serves), under exactly etcdns's flags. Deno loads its Node timers module for the first timer
(about 3 MB) and compiles a trampoline for each libc function bound (about 4 MB): by hand, the
echo alone held 30.5-31.6 MB, with the timer 33.4-34.6, with libc 34.5-35.6, with both 37.6-38.8
(2 runs each, 2026-11-29). So the 40 MB idle bar leaves etcdns's own code (about 60 modules, the
parsed Corefile, the listeners) one or two MB.

(An earlier measurement put the script inside this repository at 41 MB; measured again on
2026-11-29 it holds what it holds outside.) Two thirds of etcdns's RSS are the deno binary's own
code paged in (the runtime, V8, FFI and,
under \`deno run\`, the CLI's module loading). Its JavaScript heap is 8 MB (5 MB live); V8's
code cache, an SQLite file Deno maps into every process, was 2 MB more until \`--no-code-cache\`
(scripts/flags). Each further worker thread adds about 14 MB (an isolate and its own copy of the
modules), and a thread that ends gives back only about 5 MB of it, so threads are not stopped
once started. Hence the defaults: each thread loads only the plugins its Corefile names (about 2
MB less per thread for whoami than loading all 21); dns-packet and Deno's npm layer load only
for a message the fast paths decline (2 MB less with one thread, 5 MB with two), which since the
reply decoder (src/dns/decode_reply.ts) no longer includes what upstreams answer nearly always
(1.3-1.7 MB less for Corefile.example once it has forwarded); and with \`spread auto\` the worker threads start only when the main thread first gets
busy, so an idle node holds one thread's memory whatever its core count (with two threads here,
whoami idles at 52 MB instead of 66 MB). A load that starts them leaves their fixed cost behind:
the after-load and settled figures of the rows with the default thread count include it, their
idle figure not. Deno gives every worker thread an isolate of its own, 11 MB before it loads a
module, so "after load no more than CoreDNS" (57 MB for all its cores) cannot hold once a second
thread runs. What a load leaves behind is kept small: the log plugin builds its lines as bytes,
ports, query IDs and durations digit by digit (src/util/line_bytes.ts), since V8's number-string cache promoted the
string of every new number and the old generation grew 2.4 MB/s per thread (Corefile.example
right after a peak load: 106-109 MB, now 87-88); and what V8's compile threads free stays in glibc
arenas of their own until \`MallocTrimmer\` (src/server/malloc_trim.ts) calls malloc_trim(3),
once per 5 s of CPU while a load goes on and once when it ends (hosts with \`workers 1\` right
after its peak run: 63-65 MB without the trims during the load, 58-61 MB with them). V8's top
compiler tier pages in about 3 MB of the binary once a load makes code hot: with
\`--max-opt=2\` (Maglev as the top tier) the RSS after load was 3-6 MB lower in every row tried
(hosts with one thread 53.9-54.7 MB against 57.5-58.0, below CoreDNS's), at the same CPU per query
at 15,000 queries/s, but at 80,000 queries/s on one thread the median latency went from 0.18 to
0.21 ms and the p99 from 1.35-1.67 to 1.9-2.4 ms (3 interleaved runs each, 2026-11-29), so the
flag is not shipped.

Under \`deno run\`, which these figures are, Deno also holds the module graph of everything
main.ts can import, whether it runs or not: a script that imports main.ts only behind a branch
never taken holds 38.5-39.8 MB against 34.6 MB for an empty one. The compiled binary reads its
modules from itself instead.

Corefile.example's etcd plugins first used npm:etcd3 (with @grpc/grpc-js and protobufjs, over
Deno's node:http2), which alone added about 25 MB to a process (63 MB against 37 MB for a script
reading one key without it): node:http2 about 5 MB, grpc-js 6 MB more, etcd3's service
definitions 9 MB more, a connection 3 MB. etcdns now speaks etcd's JSON gateway with fetch()
(src/etcd/gateway.ts; docs/architecture.md, "Talking to etcd"): Corefile.example's idle RSS went
from 73 MB to the figure in the table above, and idetcd and etcdhosts together cost about 6 MB
over the same Corefile without them. Our own HTTP/1.1 client over Deno.connect saves nothing
there: alone, a script that keeps a watch open and reads a key held 38 MB through fetch and 34 MB
through Deno.connect, and 36 MB against 38 MB beside a Deno.serve; but in etcdns, beside the
listeners of Corefile.example's health, ready and prometheus, such a client (written and measured
on 2026-11-29, then dropped) left it at 59.3-59.6 MB against 57.5-58.4 MB with fetch.

The shipped binary runs on denort, which has no CLI and reads its modules from the binary, so it
pages in less; it cannot be built here (denort comes from Deno's download host): on a machine
with internet, \`deno task compile\`, start the binary with a Corefile and read
\`scripts/bench/rss.ts PID\`.
`;
}
