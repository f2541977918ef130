/**
 * `etcdns slots`: shows and frees idetcd slots.
 *
 *   etcdns slots list [--json]     slot, name, addresses, node, lease TTL left
 *   etcdns slots release NAME|ID   deletes a slot (e.g. one a dead node still holds)
 *
 * etcd settings and the pattern come from a Corefile's idetcd block (`-conf Corefile`) or from
 * flags.
 */
import { doubleDashLongFlags } from "./flags.ts";
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import type { Etcd3 } from "etcd3";
import { loadCorefile } from "../corefile/mod.ts";
import { connectEtcd, explainEtcdError } from "../etcd/client.ts";
import { defaultEtcdOptions, type EtcdOptions, normaliseEndpoint } from "../etcd/options.ts";
import { Pattern, PatternError } from "../plugins/idetcd/pattern.ts";
import { parseIdetcd } from "../plugins/idetcd/setup.ts";
import { readSlots, SlotLayout, type SlotRecord } from "../plugins/idetcd/slots.ts";
import { errorMessage } from "../util/errors.ts";

const USAGE = `usage: etcdns slots COMMAND [flags]

commands:
  list [--json]             show every claimed slot: slot, name, ipv4, ipv6, node, lease TTL left
  release NAME|ID           free a slot now (the node holding it, if alive, claims again)
  help                      show this text

settings (from a Corefile's idetcd block, or from flags):
  -conf COREFILE            read endpoint, tls, credentials, pattern, prefix and limit from it
  --pattern TPL             the name pattern, e.g. 'worker{{.ID}}.tf.local.' (picks the block
                            when the Corefile has several)
  --prefix P                the key prefix (default none)
  --limit N                 the slot limit, for the summary line
  --endpoint URL            etcd endpoint (repeatable; default http://localhost:2379)
  --user U --password P     etcd credentials
  --cert F --cert-key F --ca F    etcd client TLS
  --timeout D               per-call timeout (default 5s)`;

/** A command-line mistake: print it with the usage, exit 2. */
class SlotsUsageError extends Error {}

interface Settings {
  etcd: EtcdOptions;
  layout: SlotLayout;
  limit: number | null;
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
  const { command, positionals, values } = parsed;
  if (command === "help" || values.help) {
    console.log(USAGE);
    return 0;
  }
  let settings: Settings;
  try {
    settings = settingsFrom(values);
  } catch (err) {
    if (err instanceof SlotsUsageError) {
      console.error(`etcdns slots: ${err.message}\n${USAGE}`);
      return 2;
    }
    console.error(`etcdns slots: ${errorMessage(err)}`);
    return 1;
  }
  let client: Etcd3 | null = null;
  try {
    client = await connectEtcd(settings.etcd);
    if (command === "list") return await list(client, settings, values.json === true);
    return await release(client, settings, positionals[0]);
  } catch (err) {
    console.error(`etcdns slots: ${explainEtcdError(err, settings.etcd)}`);
    return 1;
  } finally {
    client?.close();
  }
}

function parseCommandLine(args: string[]) {
  const normalised = doubleDashLongFlags(args);
  const { values, positionals } = parseArgs({
    args: normalised,
    allowPositionals: true,
    strict: true,
    options: {
      conf: { type: "string" },
      pattern: { type: "string" },
      prefix: { type: "string" },
      limit: { type: "string" },
      endpoint: { type: "string", multiple: true },
      user: { type: "string" },
      password: { type: "string" },
      cert: { type: "string" },
      "cert-key": { type: "string" },
      ca: { type: "string" },
      timeout: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "help", ...rest] = positionals;
  if (!["list", "release", "help"].includes(command)) {
    throw new SlotsUsageError(`unknown command '${command}'`);
  }
  if (command === "list" && rest.length > 0) {
    throw new SlotsUsageError(`'list' takes no arguments, got '${rest[0]}'`);
  }
  if (command === "release" && rest.length !== 1) {
    throw new SlotsUsageError("'release' takes one NAME or slot ID");
  }
  if (command !== "list" && values.json) throw new SlotsUsageError("--json goes with 'list'");
  return { command, positionals: rest, values };
}

type Values = ReturnType<typeof parseCommandLine>["values"];

/** Builds the settings: the Corefile's idetcd block first, flags on top. */
function settingsFrom(values: Values): Settings {
  let etcd = defaultEtcdOptions();
  let pattern: Pattern | null = null;
  let prefix = "";
  let limit: number | null = null;
  if (values.conf !== undefined) {
    const found = fromCorefile(values.conf, values.pattern);
    etcd = found.etcd;
    pattern = found.pattern;
    prefix = found.prefix;
    limit = found.limit;
  } else if (values.pattern !== undefined) {
    try {
      pattern = Pattern.parse(values.pattern);
    } catch (err) {
      if (err instanceof PatternError) throw new SlotsUsageError(err.message);
      throw err;
    }
  }
  if (!pattern) {
    throw new SlotsUsageError("give -conf COREFILE (with an idetcd block) or --pattern TPL");
  }
  if (values.prefix !== undefined) prefix = values.prefix.replace(/\/+$/, "");
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) {
      throw new SlotsUsageError(`--limit must be a positive whole number, got '${values.limit}'`);
    }
    limit = Number(values.limit);
  }
  if (values.endpoint !== undefined) {
    etcd.endpoints = values.endpoint.map((e) => {
      const n = normaliseEndpoint(e);
      if (typeof n !== "string") throw new SlotsUsageError(n.error);
      return n;
    });
  }
  if (values.user !== undefined) {
    etcd.username = values.user;
    etcd.password = values.password ?? "";
  }
  if (values.cert !== undefined || values["cert-key"] !== undefined || values.ca !== undefined) {
    etcd.tls = { cert: values.cert, key: values["cert-key"], ca: values.ca };
  }
  if (values.timeout !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(values.timeout);
    if (!m) {
      throw new SlotsUsageError(`--timeout must look like 500ms or 5s, got '${values.timeout}'`);
    }
    etcd.timeoutMs = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000);
  }
  return { etcd, layout: new SlotLayout(pattern, prefix), limit };
}

/** The idetcd block of a Corefile (the one with `pattern`, when there are several). */
function fromCorefile(path: string, wanted: string | undefined) {
  const { blocks } = loadCorefile(path);
  const found = [];
  for (const block of blocks) {
    for (const d of block.directives) {
      if (d.name !== "idetcd") continue;
      found.push(parseIdetcd(d, [...new Set(block.keys.map((k) => k.zone))]));
    }
  }
  const matching = wanted === undefined ? found : found.filter((c) => c.pattern.source === wanted);
  const unique = [
    ...new Map(matching.map((c) => [JSON.stringify([c.pattern.source, c.prefix]), c])).values(),
  ];
  if (unique.length === 0) {
    throw new SlotsUsageError(
      wanted === undefined
        ? `${path} has no idetcd block`
        : `${path} has no idetcd block with pattern '${wanted}'`,
    );
  }
  if (unique.length > 1) {
    throw new SlotsUsageError(
      `${path} has several idetcd blocks; pick one with --pattern (${
        unique.map((c) => `'${c.pattern.source}'`).join(", ")
      })`,
    );
  }
  const c = unique[0];
  return { etcd: c.etcd, pattern: c.pattern, prefix: c.prefix, limit: c.limit };
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

async function list(client: Etcd3, s: Settings, json: boolean): Promise<number> {
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

async function rowOf(client: Etcd3, r: SlotRecord): Promise<Row> {
  let ttl: number | null = null;
  if (r.lease !== "0") {
    try {
      const t = await client.leaseClient.leaseTimeToLive({ ID: r.lease });
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

async function release(client: Etcd3, s: Settings, what: string): Promise<number> {
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
  // Only delete what we looked at: a slot re-claimed meanwhile is left alone.
  const res = await client.kv.txn({
    compare: [{
      key: Buffer.from(key),
      target: "Mod",
      result: "Equal",
      mod_revision: String(r.modRevision),
    }],
    success: [{ request_delete_range: { key: Buffer.from(key) } }],
    failure: [],
  });
  if (!res.succeeded) {
    console.error(`etcdns slots: ${r.name} changed while releasing it; run the command again`);
    return 1;
  }
  console.log(`released ${r.name} (slot ${id}${r.value?.node ? `, node ${r.value.node}` : ""})`);
  return 0;
}
