/**
 * Members of an etcd cluster being bootstrapped by discovery (not the backing etcd of
 * tests/helpers/etcd.ts): any etcd binary, free loopback ports, a temp data dir, output kept.
 */
import { ROOT, START } from "./etcdns.ts";
import { freePort } from "./ports.ts";

/** A running (or exited) etcd member. */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dir: string;
  /** The exit status once it has exited, else null. */
  exited(): Deno.CommandStatus | null;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit status. */
  status(): Promise<Deno.CommandStatus>;
  /** SIGTERM (SIGKILL after 10 s), then removes the data dir. */
  stop(): Promise<void>;
}

/** Starts `binary` as member `name` with `extra` flags (e.g. `--discovery URL`). */
export async function startMember(
  binary: string,
  name: string,
  extra: string[],
): Promise<EtcdMember> {
  const dir = await Deno.makeTempDir({ prefix: `etcdns-member-${name}-` });
  const clientPort = freePort();
  let peerPort = freePort();
  while (peerPort === clientPort) peerPort = freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child = new Deno.Command(binary, {
    args: [
      "--name",
      name,
      "--data-dir",
      `${dir}/data`,
      "--listen-client-urls",
      clientUrl,
      "--advertise-client-urls",
      clientUrl,
      "--listen-peer-urls",
      peerUrl,
      "--initial-advertise-peer-urls",
      peerUrl,
      "--logger",
      "zap",
      "--log-outputs",
      "stderr",
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let exited: Deno.CommandStatus | null = null;
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const readers = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const status = child.status.then((s) => (exited = s));
  return {
    name,
    clientUrl,
    peerUrl,
    dir,
    exited: () => exited,
    output: () => text,
    status: () => status,
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* gone */ }
        const killer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }, 10_000);
        await status;
        clearTimeout(killer);
      }
      await readers;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Whether a member reports healthy on /health, as `etcdctl endpoint health` checks it. */
export async function memberHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
    const body = await res.text();
    return res.ok && /"health":\s*"true"/.test(body);
  } catch {
    return false;
  }
}

/** Runs `etcdns ARGS` through scripts/start (the binary's permissions); returns its output. */
export async function etcdnsCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(START, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * The etcd 3.7 binary: $ETCD37_BIN, else the one `scripts/peers etcd37` built (without building
 * it here: that takes minutes). Null when there is none.
 */
export function etcd37Binary(): string | null {
  const fromEnv = Deno.env.get("ETCD37_BIN");
  const home = Deno.env.get("HOME") ?? "";
  const cache = Deno.env.get("ETCDNS_PEERS_DIR") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/etcdns/peers`;
  for (const path of [fromEnv, `${cache}/etcd-v3.7.3`]) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there
    }
  }
  return null;
}
