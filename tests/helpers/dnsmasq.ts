/**
 * Starts a real dnsmasq (Debian's `dnsmasq-base`) as an upstream for forward and cache tests. It
 * listens on a free loopback port, answers only the names it is given, and never forwards
 * anywhere (`--no-resolv`, no servers).
 */
import { freePort } from "./ports.ts";
import { makeQuery } from "./query.ts";
import { udpExchange } from "./dns_client.ts";
import { waitFor } from "./wait.ts";

/** Options for `startDnsmasq`. */
export interface DnsmasqOptions {
  /** Names and the IPv4 address each answers with, e.g. `{ "example.test": "192.0.2.1" }`. */
  addresses?: Record<string, string | string[]>;
  /** The TTL of the answers (dnsmasq's `--local-ttl`). Default 300. */
  ttl?: number;
  /** The port to use (default: a free one). */
  port?: number;
  /** Extra dnsmasq arguments. */
  args?: string[];
  /**
   * Serve TCP in forked children (`--keep-in-foreground`) instead of the main process
   * (`--no-daemon`, which serves one TCP connection at a time and stalls UDP while a client keeps
   * an idle connection open, as forward's connection pool does). Default false.
   */
  forkTcp?: boolean;
}

/** A running dnsmasq. */
export interface TestDnsmasq {
  readonly port: number;
  /** `127.0.0.1:PORT`, as a forward TO. */
  readonly address: string;
  /** The running process's id, or null while stopped (benchmarks read its CPU time and RSS). */
  readonly pid: number | null;
  /** Kills dnsmasq (SIGKILL) and waits for it to exit; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts dnsmasq again (after `stop()`) and waits until it answers. */
  start(): Promise<void>;
  /** Stops dnsmasq for good. */
  close(): Promise<void>;
  /** What dnsmasq printed (for failure messages). */
  log(): string;
}

/** Starts dnsmasq on 127.0.0.1 and waits until it answers a query. */
export async function startDnsmasq(opts: DnsmasqOptions = {}): Promise<TestDnsmasq> {
  const port = opts.port ?? freePort();
  const args = [
    opts.forkTcp ? "--keep-in-foreground" : "--no-daemon",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    "--no-poll",
    "--conf-file=/dev/null",
    "--pid-file=",
    "--user=root",
    "--log-facility=-",
    `--local-ttl=${opts.ttl ?? 300}`,
  ];
  for (const [name, value] of Object.entries(opts.addresses ?? {})) {
    for (const ip of Array.isArray(value) ? value : [value]) args.push(`--address=/${name}/${ip}`);
  }
  args.push(...(opts.args ?? []));

  let child: Deno.ChildProcess | null = null;
  let output = "";
  let reader: Promise<void> | null = null;

  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
  };

  const start = async () => {
    if (child) throw new Error("dnsmasq is already running");
    const c = new Deno.Command("dnsmasq", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = c;
    reader = Promise.all([collect(c.stdout), collect(c.stderr)]).then(() => {});
    let exited = false;
    c.status.then(() => exited = true);
    try {
      await waitFor(`dnsmasq on 127.0.0.1:${port} to answer`, async () => {
        if (exited) throw new Error(`dnsmasq exited:\n${output}`);
        const reply = await udpExchange(port, makeQuery("probe.invalid", "A"), 200);
        return reply !== null;
      }, 10_000);
    } catch (err) {
      await stop();
      throw err;
    }
  };

  const stop = async () => {
    const c = child;
    if (!c) return;
    child = null;
    try {
      c.kill("SIGKILL");
    } catch { /* already gone */ }
    await c.status;
    await reader;
  };

  await start();
  return {
    port,
    address: `127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? null;
    },
    stop,
    start,
    close: stop,
    log: () => output,
  };
}
