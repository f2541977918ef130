/** `etcdns slots self`: this node's claimed name and addresses, for scripts. */
import type { EtcdClient } from "../etcd/client.ts";
import { defaultNodeId, detectAddresses } from "../plugins/idetcd/node.ts";
import { readSlots, type SlotRecord } from "../plugins/idetcd/slots.ts";
import type { SlotsSettings } from "./slots.ts";

/** This node's id, exactly as its idetcd computes it (node_id, else hostname/address/port). */
function ownNodeId(s: SlotsSettings): string {
  return s.nodeId ?? defaultNodeId(s.address ?? detectAddresses(), s.dnsPort);
}

/** A shell-safe `KEY=value` (single-quoted when it needs to be). */
function shellPair(key: string, value: string): string {
  return /^[A-Za-z0-9_.:/@%+,-]*$/.test(value)
    ? `${key}=${value}`
    : `${key}='${value.replaceAll("'", "'\\''")}'`;
}

/**
 * `slots self`: this node's slot as shell `KEY=value` lines (or JSON), waiting up to `waitMs`
 * for the claim to appear.
 */
export async function printSelf(
  client: EtcdClient,
  s: SlotsSettings,
  json: boolean,
  waitMs: number,
): Promise<number> {
  const node = ownNodeId(s);
  const deadline = Date.now() + waitMs;
  let mine: SlotRecord | undefined;
  for (;;) {
    const { records } = await readSlots(client, s.layout);
    mine = records.find((r) => r.value?.node === node);
    if (mine || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(1, deadline - Date.now()))));
  }
  if (!mine) {
    console.error(
      `etcdns slots: this node (node id '${node}') holds no slot of pattern ` +
        `'${s.layout.pattern.source}'${waitMs > 0 ? ` after waiting ${waitMs} ms` : ""}; ` +
        `is etcdns running here with this Corefile? (etcdns slots list shows who holds what)`,
    );
    return 1;
  }
  const v = mine.value ?? {};
  const out = {
    name: mine.name,
    host: mine.name.replace(/\.$/, ""),
    slot: mine.id,
    ipv4: v.ipv4 ?? "",
    ipv6: v.ipv6 ?? "",
    node,
  };
  if (json) {
    console.log(JSON.stringify(out, null, 2));
    return 0;
  }
  for (const [k, val] of Object.entries(out)) console.log(shellPair(k.toUpperCase(), String(val)));
  return 0;
}
