/**
 * Starts a real etcd for tests: free loopback ports, a temporary data dir, logs in a file that is
 * printed only when something goes wrong. Debian's `etcd-server` (3.4) by default; `ETCD_BIN`
 * names another binary (scripts/test runs the etcd-facing tests again on etcd 3.7 that way).
 */
import { EtcdClient } from "../../src/etcd/gateway.ts";
import { prefixEnd } from "../../src/etcd/watch.ts";
import type { RangeResponse } from "../../src/etcd/wire.ts";
import { distinctPorts, freePort } from "./ports.ts";

export { freePort };

/** The etcd binary the tests run: `$ETCD_BIN`, else `etcd` from PATH. */
export const ETCD_BIN: string = Deno.env.get("ETCD_BIN") || "etcd";

/**
 * etcd's flags for a member `name` on loopback: data in `dataDir`, listening on and advertising
 * `clientUrl` and `peerUrl`, zap logs on stderr.
 */
export function memberFlags(
  name: string,
  dataDir: string,
  clientUrl: string,
  peerUrl: string,
): string[] {
  return [
    ["--name", name],
    ["--data-dir", dataDir],
    ["--listen-client-urls", clientUrl],
    ["--advertise-client-urls", clientUrl],
    ["--listen-peer-urls", peerUrl],
    ["--initial-advertise-peer-urls", peerUrl],
    ["--logger", "zap"],
    ["--log-outputs", "stderr"],
  ].flat();
}

/** A running test etcd. */
export interface TestEtcd {
  /** The client URL, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** The temp dir holding `data/` and `etcd.log`. */
  readonly dir: string;
  /**
   * Stops etcd and waits for it to exit; the data dir is kept. SIGKILL by default, the harder
   * case for clients (no goodbye on any connection); pass "SIGTERM" for a graceful stop.
   */
  stop(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts etcd again on the same ports with the same data (after `stop()`). */
  start(): Promise<void>;
  /** Alias of `start()` after `stop()`, as the brief names it. */
  restart(): Promise<void>;
  /** Freezes etcd (SIGSTOP): connections stay open but nothing answers, like a hung peer. */
  pause(): Promise<void>;
  /** Unfreezes etcd after `pause()` (SIGCONT). */
  resume(): void;
  /** Compacts the store at its current revision (physically), returning that revision. */
  compact(): Promise<number>;
  /** A client for the test's own reads and writes; closed by `close()`. */
  client(): EtcdClient;
  /** Stops etcd and removes the temp dir. */
  close(): Promise<void>;
  /** The etcd log so far (for failure messages). */
  log(): string;
}

/** Options for `startEtcd`. */
export interface StartEtcdOptions {
  /** How long to wait for etcd to report healthy. Default 20 s. */
  readyTimeoutMs?: number;
  /** More etcd flags, e.g. `--auth-token-ttl=1`. */
  args?: string[];
}

/** Starts etcd on free loopback ports with a temp data dir and waits until it is healthy. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<TestEtcd> {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-etcd-" });
  const [clientPort, peerPort] = distinctPorts(2);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logPath = `${dir}/etcd.log`;
  const args = [
    ...memberFlags("test", `${dir}/data`, endpoint, peer),
    "--initial-cluster",
    `test=${peer}`,
    ...opts.args ?? [],
  ];
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  let child: Deno.ChildProcess | null = null;
  let logFile: Deno.FsFile | null = null;
  let clients: EtcdClient[] = [];

  const readLog = () => {
    try {
      return Deno.readTextFileSync(logPath);
    } catch {
      return "";
    }
  };

  const launch = async () => {
    logFile = await Deno.open(logPath, { create: true, append: true });
    child = new Deno.Command(ETCD_BIN, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Both streams go to the log file, so a failing test can show what etcd said.
    const file = logFile;
    const copy = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        try {
          await file.write(chunk);
        } catch {
          // the file was closed while etcd was still talking; nothing to keep
        }
      }
    };
    const copies = Promise.all([copy(child.stdout), copy(child.stderr)]);
    copying = copies;
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (await healthy(endpoint)) return;
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 100)),
      ]);
      if (exited) break;
    }
    const log = readLog();
    await halt();
    throw new Error(
      `etcd did not become healthy at ${endpoint} within ${readyTimeoutMs} ms:\n${log}`,
    );
  };

  let copying: Promise<unknown> = Promise.resolve();
  const halt = async (signal: "SIGKILL" | "SIGTERM" = "SIGKILL") => {
    const c = child;
    child = null;
    if (c) {
      try {
        c.kill("SIGCONT");
        c.kill(signal);
      } catch {
        // already exited
      }
      const killer = setTimeout(() => {
        try {
          c.kill("SIGKILL");
        } catch {
          // exited meanwhile
        }
      }, 10_000);
      await c.status;
      clearTimeout(killer);
      await copying;
    }
    const f = logFile;
    logFile = null;
    f?.close();
  };

  await launch();

  return {
    endpoint,
    dir,
    stop: (signal) => halt(signal),
    start: launch,
    restart: launch,
    async pause() {
      const frozen = child as Deno.ChildProcess | null;
      if (frozen === null) return;
      frozen.kill("SIGSTOP");
      // The stop lands as each of etcd's threads next enters the kernel: wait until the process
      // shows it, so that no request sent after pause() is answered (it once was, on 3.4).
      const stat = `/proc/${frozen.pid}/stat`;
      for (let i = 0; i < 200; i++) {
        const state = Deno.readTextFileSync(stat).replace(/^.*\) /s, "")[0];
        if (state === "T" || state === "t") return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`etcd (pid ${frozen.pid}) did not stop within 2 s of SIGSTOP`);
    },
    resume() {
      (child as Deno.ChildProcess | null)?.kill("SIGCONT");
    },
    async compact() {
      const c = new EtcdClient({ endpoints: [endpoint], timeoutMs: 5000 });
      try {
        const res = await c.range({ key: "\0", limit: 1 });
        const revision = Number(res.header.revision);
        await c.compact(revision, true);
        return revision;
      } finally {
        c.close();
      }
    },
    client() {
      const c = new EtcdClient({ endpoints: [endpoint], timeoutMs: 5000 });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      clients = [];
      await halt();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    log: readLog,
  };
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = await res.text();
    return res.ok && body.includes('"true"');
  } catch {
    return false;
  }
}

/** Writes `value` (a string as UTF-8) at `key`, under the lease `lease` when given. */
export async function putText(
  client: EtcdClient,
  key: string,
  value: string | Uint8Array,
  lease?: string,
): Promise<void> {
  await client.put(lease === undefined ? { key, value } : { key, value, lease });
}

/** The value at `key` as UTF-8 text, or undefined when the key does not exist. */
export async function getText(client: EtcdClient, key: string): Promise<string | undefined> {
  const res = await client.range({ key });
  return res.kvs[0]?.value.toString("utf8");
}

/** Every key starting with `prefix` and the store revision of that read, sorted by key. */
export function rangePrefix(client: EtcdClient, prefix: string): Promise<RangeResponse> {
  return client.range({ key: prefix, range_end: prefixEnd(prefix) });
}

/** The keys starting with `prefix`, sorted, as UTF-8 text. */
export async function keysWithPrefix(client: EtcdClient, prefix: string): Promise<string[]> {
  const res = await client.range({ key: prefix, range_end: prefixEnd(prefix), keys_only: true });
  return res.kvs.map((kv) => kv.key.toString("utf8"));
}

/** Deletes `key` (nothing happens when it does not exist). */
export async function deleteKey(client: EtcdClient, key: string): Promise<void> {
  await client.deleteRange({ key });
}

/** One member of an etcd cluster, as its member list names it. */
export interface EtcdMemberInfo {
  ID: string;
  /** Empty while the member has not started. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** The member list of the cluster `clientUrl` belongs to (EtcdClient has no cluster calls). */
export async function memberList(clientUrl: string): Promise<EtcdMemberInfo[]> {
  const res = await fetch(`${clientUrl}/v3/cluster/member/list`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`member list from ${clientUrl}: HTTP ${res.status}: ${text}`);
  const body: { members?: Record<string, unknown>[] } = JSON.parse(text);
  const members = Array.isArray(body.members) ? body.members : [];
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return members.map((m) => ({
    ID: String(m.ID ?? "0"),
    name: typeof m.name === "string" ? m.name : "",
    peerURLs: strings(m.peerURLs),
    clientURLs: strings(m.clientURLs),
  }));
}
