/**
 * Members of an etcd cluster being bootstrapped by discovery (not the backing etcd of
 * tests/helpers/etcd.ts): any etcd binary, free loopback ports, a temp data dir, output kept.
 */
import { ROOT, START } from "./etcdns.ts";
import { memberFlags } from "./etcd.ts";
import { distinctPorts } from "./ports.ts";
import { spawnCollecting } from "./spawn.ts";
import { waitFor } from "./wait.ts";

/** A process that should become a healthy etcd member: where it serves, and what it said. */
export interface MemberProcess {
  readonly name: string;
  readonly clientUrl: string;
  /** The exit status once it has exited, else null. */
  exited(): Deno.CommandStatus | null;
  /** Everything it printed so far. */
  output(): string;
}

/** A running (or exited) etcd member. */
export interface EtcdMember extends MemberProcess {
  readonly peerUrl: string;
  readonly dir: string;
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
  const [clientPort, peerPort] = distinctPorts(2);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = spawnCollecting(binary, [
    ...memberFlags(name, `${dir}/data`, clientUrl, peerUrl),
    ...extra,
  ]);
  return {
    name,
    clientUrl,
    peerUrl,
    dir,
    exited: etcd.exited,
    output: etcd.output,
    status: () => etcd.status,
    async stop() {
      await etcd.stop();
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

/** Waits until every member reports healthy; the timeout error shows a member that exited. */
export async function waitHealthy(
  members: readonly MemberProcess[],
  timeoutMs = 60_000,
): Promise<void> {
  for (const m of members) {
    await waitFor(
      `${m.name} healthy`,
      () => {
        if (m.exited()) throw new Error(`${m.name} exited:\n${m.output()}`);
        return memberHealthy(m.clientUrl);
      },
      timeoutMs,
      200,
    );
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
