/**
 * `etcdns slots`: shows and frees idetcd slots.
 *
 *   etcdns slots list [--json]     slot, name, addresses, node, lease TTL left
 *   etcdns slots release NAME|ID   deletes a slot (e.g. one a dead node still holds); a slot
 *                                  of an original idetcd node only with --force
 *   etcdns slots self [--json]     this node's slot, name and addresses, for scripts
 *
 * etcd settings and the pattern come from a Corefile's idetcd block (`-conf Corefile`) or from
 * flags.
 */
import { type EtcdClient, explainEtcdError } from "../etcd/client.ts";
import { defaultEtcdOptions, type EtcdOptions } from "../etcd/options.ts";
import { withEtcd } from "../etcd/pool.ts";
import { Pattern, PatternError } from "../plugins/idetcd/pattern.ts";
import { parseIdetcd } from "../plugins/idetcd/setup.ts";
import { readSlots, SlotLayout, type SlotRecord } from "../plugins/idetcd/slots.ts";
import type { Addresses } from "../plugins/idetcd/node.ts";
import { errorMessage } from "../util/errors.ts";
import { notADuration, parseDurationMs } from "../util/duration.ts";
import { type FlagValues, parseFlags, UsageError } from "./flags.ts";
import {
  corefileDirectives,
  ETCD_FLAG_SPECS,
  ETCD_FLAGS_USAGE,
  etcdFromFlags,
} from "./settings.ts";
import { printSelf } from "./slots_self.ts";

const USAGE = `usage: etcdns slots COMMAND [flags]

commands:
  list [--json]             show every claimed slot: slot, name, ipv4, ipv6, node, lease TTL left
  release [--force] NAME|ID free a slot now (the node holding it, if alive, claims again).
                            A slot held by an original (Go) idetcd node, whose value has no
                            etcdns 'instance' field, is refused unless --force: that node
                            panics at its next lease renewal when its slot is gone
  self [--json] [--wait D]  the slot this node holds (found by its idetcd node id), as
                            NAME=etcd2.tf.local. HOST=etcd2.tf.local SLOT=2 IPV4=... IPV6=...
                            lines a shell can eval; --wait waits up to D for the claim
  help                      show this text

settings (from a Corefile's idetcd block, or from flags):
  -conf COREFILE            read endpoint, tls, credentials, pattern, prefix and limit from it
  --pattern TPL             the name pattern, e.g. 'worker{{.ID}}.tf.local.' (picks the block
                            when the Corefile has several)
  --prefix P                the key prefix (default none)
  --limit N                 the slot limit, for the summary line
  --node-id ID              this node's id for 'self' (default: the idetcd block's node_id,
                            else HOSTNAME/ADDRESS/DNS-PORT as idetcd computes it)
  -dns.port PORT            the DNS port of keys without one, as given to the server (default 53)
${ETCD_FLAGS_USAGE}`;

const FLAGS = {
  conf: { type: "string" },
  pattern: { type: "string" },
  prefix: { type: "string" },
  limit: { type: "string" },
  ...ETCD_FLAG_SPECS,
  json: { type: "boolean" },
  "node-id": { type: "string" },
  "dns.port": { type: "string" },
  wait: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = FlagValues<typeof FLAGS>;

/** What the slots commands work with. */
export interface SlotsSettings {
  etcd: EtcdOptions;
  layout: SlotLayout;
  limit: number | null;
  /** What `self` needs to compute this node's id: the idetcd block's node_id and address. */
  nodeId?: string;
  address: Addresses | null;
  dnsPort: number;
}

/** Runs `etcdns slots ARGS...` and returns the exit code. */
export async function runSlotsCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (err) {
    console.error(`etcdns slots: ${errorMessage(err)}\n${USAGE}`);
    return 2;
  }
  const { command, positionals, values, waitMs } = parsed;
  if (command === "help" || values.help) {
    console.log(USAGE);
    return 0;
  }
  let settings: SlotsSettings;
  try {
    settings = settingsFrom(values);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`etcdns slots: ${err.message}\n${USAGE}`);
      return 2;
    }
    console.error(`etcdns slots: ${errorMessage(err)}`);
    return 1;
  }
  try {
    return await withEtcd(settings.etcd, (client) => {
      if (command === "list") return list(client, settings, values.json);
      if (command === "self") return printSelf(client, settings, values.json === true, waitMs);
      return releaseSlot(client, settings, positionals[0], values.force);
    });
  } catch (err) {
    console.error(`etcdns slots: ${explainEtcdError(err, settings.etcd)}`);
    return 1;
  }
}

function parseCommandLine(args: string[]) {
  const { values, rest: positionals } = parseFlags(args, FLAGS);
  const [command = "help", ...rest] = positionals;
  if (!["list", "release", "self", "help"].includes(command)) {
    throw new UsageError(`unknown command '${command}'`);
  }
  if ((command === "list" || command === "self") && rest.length > 0) {
    throw new UsageError(`'${command}' takes no arguments, got '${rest[0]}'`);
  }
  if (command !== "self" && values.wait !== undefined) {
    throw new UsageError("--wait goes with 'self'");
  }
  if (command === "release" && rest.length !== 1) {
    throw new UsageError("'release' takes one NAME or slot ID");
  }
  if (command !== "release" && values.force) {
    throw new UsageError("--force goes with 'release'");
  }
  if (command !== "list" && command !== "self" && values.json) {
    throw new UsageError("--json goes with 'list' or 'self'");
  }
  const waitMs = values.wait === undefined ? 0 : parseDurationMs(values.wait);
  if (waitMs === null) throw new UsageError(`--wait: ${notADuration("wait", values.wait!)}`);
  return { command, positionals: rest, values, waitMs };
}

/** The settings `etcdns slots ARGS...` would use (for tests); throws a UsageError. */
export function slotsSettings(args: string[]): SlotsSettings {
  return settingsFrom(parseCommandLine(args).values);
}

/** Builds the settings: the Corefile's idetcd block first, flags on top. */
function settingsFrom(values: Values): SlotsSettings {
  let etcd = defaultEtcdOptions();
  let pattern: Pattern | null = null;
  let prefix = "";
  let limit: number | null = null;
  let nodeId: string | undefined;
  let address: Addresses | null = null;
  let dnsPort = 53;
  if (values["dns.port"] !== undefined) {
    const p = values["dns.port"];
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
      throw new UsageError(`-dns.port must be a port number, got '${p}'`);
    }
    dnsPort = Number(p);
  }
  if (values.conf !== undefined) {
    const found = fromCorefile(values.conf, values.pattern, dnsPort);
    etcd = found.etcd;
    pattern = found.pattern;
    prefix = found.prefix;
    limit = found.limit;
    nodeId = found.nodeId;
    address = found.address;
    dnsPort = found.dnsPort;
  } else if (values.pattern !== undefined) {
    try {
      pattern = Pattern.parse(values.pattern);
    } catch (err) {
      if (err instanceof PatternError) throw new UsageError(err.message);
      throw err;
    }
  }
  if (!pattern) {
    throw new UsageError("give -conf COREFILE (with an idetcd block) or --pattern TPL");
  }
  if (values.prefix !== undefined) prefix = values.prefix.replace(/\/+$/, "");
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) {
      throw new UsageError(`--limit must be a positive whole number, got '${values.limit}'`);
    }
    limit = Number(values.limit);
  }
  etcd = etcdFromFlags(values, etcd);
  if (values["node-id"] !== undefined) nodeId = values["node-id"];
  return { etcd, layout: new SlotLayout(pattern, prefix), limit, nodeId, address, dnsPort };
}

/** The idetcd block of a Corefile (the one with `pattern`, when there are several). */
function fromCorefile(path: string, wanted: string | undefined, dnsPort: number) {
  // The server computes the default node id with its block's first port (setupIdetcd).
  const found = corefileDirectives(path, "idetcd", dnsPort).map((b) => ({
    ...parseIdetcd(b.directive, b.zones),
    dnsPort: b.port ?? dnsPort,
  }));
  const matching = wanted === undefined ? found : found.filter((c) => c.pattern.source === wanted);
  const unique = [
    ...new Map(matching.map((c) => [JSON.stringify([c.pattern.source, c.prefix]), c])).values(),
  ];
  if (unique.length === 0) {
    throw new UsageError(
      wanted === undefined
        ? `${path} has no idetcd block`
        : `${path} has no idetcd block with pattern '${wanted}'`,
    );
  }
  if (unique.length > 1) {
    throw new UsageError(
      `${path} has several idetcd blocks; pick one with --pattern (${
        unique.map((c) => `'${c.pattern.source}'`).join(", ")
      })`,
    );
  }
  const c = unique[0];
  return {
    etcd: c.etcd,
    pattern: c.pattern,
    prefix: c.prefix,
    limit: c.limit,
    nodeId: c.nodeId,
    address: c.address,
    dnsPort: c.dnsPort,
  };
}

/** One row of `list`. */
interface Row {
  slot: number;
  name: string;
  key: string;
  ipv4: string | null;
  ipv6: string | null;
  port: string | null;
  node: string | null;
  hostname: string | null;
  claimed_at: string | null;
  lease: string;
  /** Seconds the lease has left; null without a lease, -1 when it has expired. */
  ttl: number | null;
  error?: string;
}

async function list(client: EtcdClient, s: SlotsSettings, json: boolean): Promise<number> {
  const { records } = await readSlots(client, s.layout);
  const rows = await Promise.all(records.map((r) => rowOf(client, r)));
  if (json) {
    console.log(JSON.stringify(
      { pattern: s.layout.pattern.source, prefix: s.layout.prefix, limit: s.limit, slots: rows },
      null,
      2,
    ));
    return 0;
  }
  const table = [["SLOT", "NAME", "IPV4", "IPV6", "NODE", "TTL"]];
  for (const r of rows) {
    table.push([
      String(r.slot),
      r.name,
      r.error ? `(bad value: ${r.error})` : r.ipv4 ?? "-",
      r.error ? "" : r.ipv6 ?? "-",
      r.node ?? "-",
      r.ttl === null ? "-" : r.ttl < 0 ? "expired" : `${r.ttl}s`,
    ]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) {
    console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
  const of = s.limit === null ? "" : ` of ${s.limit}`;
  console.log(`${rows.length}${of} slots claimed (pattern ${s.layout.pattern.source})`);
  return 0;
}

async function rowOf(client: EtcdClient, r: SlotRecord): Promise<Row> {
  let ttl: number | null = null;
  if (r.lease !== "0") {
    try {
      const t = await client.leaseTimeToLive(r.lease);
      ttl = Number(t.TTL);
    } catch {
      ttl = -1;
    }
  }
  const v = r.value;
  return {
    slot: r.id,
    name: r.name,
    key: r.key,
    ipv4: v?.ipv4 ?? null,
    ipv6: v?.ipv6 ?? null,
    port: v?.port ?? null,
    node: v?.node ?? null,
    hostname: v?.hostname ?? null,
    claimed_at: v?.claimed_at ?? null,
    lease: r.lease,
    ttl,
    ...(r.error ? { error: r.error } : {}),
  };
}

async function releaseSlot(
  client: EtcdClient,
  s: SlotsSettings,
  what: string,
  force = false,
): Promise<number> {
  const id = /^\d+$/.test(what) ? Number(what) : s.layout.pattern.idOf(what);
  if (id === null || id < 1) {
    console.error(
      `etcdns slots: '${what}' is not a name of pattern '${s.layout.pattern.source}' or a slot ID`,
    );
    return 1;
  }
  const key = s.layout.keyOf(id);
  const { records } = await readSlots(client, s.layout);
  const r = records.find((x) => x.id === id);
  if (!r) {
    console.error(`etcdns slots: ${s.layout.nameOf(id)} (slot ${id}) is not claimed`);
    return 1;
  }
  // etcdns nodes write `instance`; the original idetcd never does. An original node whose
  // slot is deleted panics at its next lease renewal (its bug), so that needs --force.
  if (r.value !== null && r.value.instance === undefined && !force) {
    console.error(
      `etcdns slots: refused: ${r.name} (slot ${id}) is held by an original idetcd node (its ` +
        `value has no etcdns 'instance' field); that node panics at its next lease renewal ` +
        `when its slot is deleted. Stop or restart that node instead, or add --force to release ` +
        `it anyway`,
    );
    return 1;
  }
  // Only delete what we looked at: a slot re-claimed meanwhile is left alone.
  const res = await client.txn({
    compare: [{ key, target: "MOD", result: "EQUAL", mod_revision: r.modRevision }],
    success: [{ request_delete_range: { key } }],
    failure: [],
  });
  if (!res.succeeded) {
    console.error(`etcdns slots: ${r.name} changed while releasing it; run the command again`);
    return 1;
  }
  console.log(`released ${r.name} (slot ${id}${r.value?.node ? `, node ${r.value.node}` : ""})`);
  return 0;
}
