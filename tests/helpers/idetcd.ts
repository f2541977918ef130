/** Helpers for idetcd end-to-end tests: Corefiles, nodes, and what etcd holds. */
import type { EtcdClient } from "../../src/etcd/gateway.ts";
import { type EtcdnsOptions, type EtcdnsProcess, startEtcdns } from "./etcdns.ts";
import { rangePrefix, startEtcd, type TestEtcd } from "./etcd.ts";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/** The seed's pattern. */
export const PATTERN = "worker{{.ID}}.tf.local.";

/** Options for one idetcd node's Corefile. */
export interface NodeCorefile {
  limit?: number;
  /** Lease TTL in seconds (default 2, to keep tests fast). */
  lease?: number;
  /** Extra lines inside the idetcd block. */
  extra?: string[];
  /** The `workers` count (default: none, so one thread per core). */
  workers?: number;
}

/** The Corefile every node of a test cluster shares (`{PORT}` is filled per node). */
export function idetcdCorefile(etcd: TestEtcd, o: NodeCorefile = {}): string {
  const lines = [
    `endpoint ${etcd.endpoint}`,
    `limit ${o.limit ?? 5}`,
    `lease ${o.lease ?? 2}`,
    `pattern ${PATTERN}`,
    ...(o.extra ?? []),
  ];
  const workers = o.workers === undefined ? "" : `    workers ${o.workers}\n`;
  return `.:{PORT} {\n${workers}    idetcd {\n${
    lines.map((l) => `        ${l}\n`).join("")
  }    }\n}\n`;
}

/** Starts one node and, unless `waitReady` is false, waits for its banner. */
export function startNode(
  etcd: TestEtcd,
  o: NodeCorefile & EtcdnsOptions = {},
): Promise<EtcdnsProcess> {
  return startEtcdns({ timeoutMs: 30_000, ...o, corefile: idetcdCorefile(etcd, o) });
}

const CLAIMED = /plugin\/idetcd: (?:claimed|took back its own|holds again) slot (\d+)/;

/** The slot a node logged it claimed last, or null. */
export function claimedSlot(p: EtcdnsProcess): number | null {
  for (let i = p.lines.length - 1; i >= 0; i--) {
    const m = CLAIMED.exec(p.lines[i]);
    if (m) return Number(m[1]);
  }
  return null;
}

/** Waits until the node logs a claim; returns the slot. */
export async function waitClaimed(p: EtcdnsProcess, timeoutMs = 15_000): Promise<number> {
  return await waitFor(`etcdns :${p.port} to claim a slot`, () => {
    if (p.exited) throw new Error(`etcdns :${p.port} exited (${p.exited.code}):\n${p.output}`);
    return claimedSlot(p);
  }, timeoutMs);
}

/** The slot keys in etcd and their parsed values. */
export async function slotValues(
  client: EtcdClient,
  prefix = "worker",
): Promise<Map<string, Record<string, string>>> {
  const { kvs } = await rangePrefix(client, prefix);
  const out = new Map<string, Record<string, string>>();
  for (const kv of kvs) {
    const k = kv.key.toString("utf8");
    const v = kv.value.toString("utf8");
    try {
      out.set(k, JSON.parse(v));
    } catch {
      out.set(k, { raw: v });
    }
  }
  return out;
}

/** `n` ports starting at `first` if all are free, else `n` free ports. */
export function portsFrom(first: number, n: number): number[] {
  const wanted = Array.from({ length: n }, (_, i) => first + i);
  const free = wanted.every((p) => {
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port: p });
      l.close();
      const u = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: p });
      u.close();
      return true;
    } catch {
      return false;
    }
  });
  if (free) return wanted;
  const out = new Set<number>();
  while (out.size < n) out.add(freePort());
  return [...out];
}

/** Stops every process, ignoring ones already gone. */
export async function stopAll(procs: Iterable<EtcdnsProcess>): Promise<void> {
  await Promise.all([...procs].map((p) => p.stop().catch(() => {})));
}

/**
 * Runs `body` with a fresh etcd and a list for the nodes it starts; prints every node's output
 * if it fails; at the end stops the nodes, then etcd.
 */
export async function withIdetcdCluster(
  body: (etcd: TestEtcd, procs: EtcdnsProcess[]) => Promise<void>,
): Promise<void> {
  const etcd = await startEtcd();
  const procs: EtcdnsProcess[] = [];
  try {
    await body(etcd, procs);
  } catch (err) {
    for (const p of procs) console.log(`--- etcdns :${p.port}\n${p.output}`);
    throw err;
  } finally {
    await stopAll(procs);
    await etcd.close();
  }
}
