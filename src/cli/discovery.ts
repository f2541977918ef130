/**
 * `etcdns discovery`: creates, shows and deletes etcd discovery tokens.
 *
 *   etcdns discovery new --size N [--ttl D] [--url URL] [--json]
 *   etcdns discovery show TOKEN [--json]
 *   etcdns discovery delete TOKEN
 *
 * A token is one size key in etcd (see src/plugins/discovery/store.ts). `new` prints both ways
 * to use it: `--discovery URL` for etcd 3.4/3.5 (served by the discovery plugin) and
 * `--discovery-token`/`--discovery-endpoints` for etcd 3.6+ (v3 discovery, straight to etcd).
 *
 * etcd settings, prefix, ttl and the URL come from a Corefile's discovery block (`-conf`) or
 * from flags, as `etcdns slots` takes them.
 */
import { type EtcdClient, explainEtcdError } from "../etcd/client.ts";
import { defaultEtcdOptions, type EtcdOptions } from "../etcd/options.ts";
import { withEtcd } from "../etcd/pool.ts";
import {
  DEFAULT_DISCOVERY_ADDRESS,
  DEFAULT_TOKEN_TTL_SECONDS,
  parseDiscovery,
} from "../plugins/discovery/setup.ts";
import {
  createToken,
  deleteToken,
  MAX_SIZE,
  newToken,
  readToken,
  TOKEN_RE,
  TokenLayout,
  type TokenState,
  V3_DISCOVERY_PREFIX,
} from "../plugins/discovery/store.ts";
import type { HttpAddress } from "../plugin/http.ts";
import { notADuration, parseDurationMs } from "../util/duration.ts";
import { errorMessage } from "../util/errors.ts";
import { type FlagValues, parseFlags, UsageError } from "./flags.ts";
import {
  corefileDirectives,
  ETCD_FLAG_SPECS,
  ETCD_FLAGS_USAGE,
  etcdFromFlags,
} from "./settings.ts";

const USAGE = `usage: etcdns discovery COMMAND [flags]

commands:
  new --size N [--ttl D] [--url URL] [--token T] [--json]
                            create a token for an N-member etcd cluster and print the etcd flags
                            for etcd 3.4/3.5 (--discovery URL) and 3.6+ (--discovery-token ...)
  show TOKEN [--json]       the size, who registered, how many are still expected, TTL left
  delete TOKEN              delete a token and its registrations now
  help                      show this text

settings (from a Corefile's discovery block, or from flags):
  -conf COREFILE            read endpoint, tls, credentials, prefix, ttl and the address from it
  --url URL                 the discovery plugin's base URL as etcd reaches it
                            (default http://ADDRESS of the discovery block, else
                            http://${DEFAULT_DISCOVERY_ADDRESS})
  --prefix P                the key prefix (default ${V3_DISCOVERY_PREFIX}, where etcd 3.6+ looks)
  --ttl D                   token lifetime, e.g. 24h (default 168h, a week)
${ETCD_FLAGS_USAGE}`;

const FLAGS = {
  conf: { type: "string" },
  size: { type: "string" },
  ttl: { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  prefix: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...ETCD_FLAG_SPECS,
} as const;

type Values = FlagValues<typeof FLAGS>;

/** What the discovery commands work with. */
export interface DiscoverySettings {
  etcd: EtcdOptions;
  prefix: string;
  ttlSeconds: number;
  /** Base URL of the discovery plugin, without a trailing slash. */
  url: string;
}

/** Runs `etcdns discovery ARGS...` and returns the exit code. */
export async function runDiscoveryCommand(args: string[]): Promise<number> {
  let parsed;
  let settings: DiscoverySettings;
  try {
    parsed = parseCommandLine(args);
    if (parsed.command === "help" || parsed.values.help) {
      console.log(USAGE);
      return 0;
    }
    settings = settingsFrom(parsed.values);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`etcdns discovery: ${errorMessage(err)}\n${USAGE}`);
      return 2;
    }
    console.error(`etcdns discovery: ${errorMessage(err)}`);
    return 1;
  }
  const { command, positionals, values } = parsed;
  try {
    return await withEtcd(settings.etcd, (client) => {
      if (command === "new") return create(client, settings, values);
      if (command === "show") return show(client, settings, positionals[0], values.json);
      return remove(client, settings, positionals[0]);
    });
  } catch (err) {
    if (err instanceof TokenExistsError) {
      console.error(`etcdns discovery: ${err.message}`);
      return 1;
    }
    console.error(`etcdns discovery: ${explainEtcdError(err, settings.etcd)}`);
    return 1;
  }
}

class TokenExistsError extends Error {}

function parseCommandLine(args: string[]) {
  const { values, rest: positionals } = parseFlags(args, FLAGS);
  const [command = "help", ...rest] = positionals;
  if (!["new", "show", "delete", "help"].includes(command)) {
    throw new UsageError(`unknown command '${command}'`);
  }
  if (command === "new") {
    if (rest.length > 0) {
      throw new UsageError(`'new' takes no arguments, got '${rest[0]}'`);
    }
    if (values.size === undefined) throw new UsageError("'new' needs --size N");
    const n = values.size;
    if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > MAX_SIZE) {
      throw new UsageError(
        `--size must be a whole number from 1 to ${MAX_SIZE}, got '${n}'`,
      );
    }
    if (values.token !== undefined && !TOKEN_RE.test(values.token)) {
      throw new UsageError(
        `--token must be letters, digits, '-' or '_' (up to 128), got '${values.token}'`,
      );
    }
  } else if (command !== "help") {
    if (rest.length !== 1) throw new UsageError(`'${command}' takes one TOKEN`);
    if (!TOKEN_RE.test(rest[0])) throw new UsageError(`'${rest[0]}' is not a token`);
    for (const f of ["size", "ttl", "token"] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f} goes with 'new'`);
    }
    if (command === "delete" && values.json) {
      throw new UsageError("--json goes with 'new' or 'show'");
    }
  }
  return { command, positionals: rest, values };
}

/** The settings `etcdns discovery ARGS...` would use (for tests); throws a UsageError. */
export function discoverySettings(args: string[]): DiscoverySettings {
  return settingsFrom(parseCommandLine(args).values);
}

/** Builds the settings: the Corefile's discovery block first, flags on top. */
function settingsFrom(values: Values): DiscoverySettings {
  let etcd = defaultEtcdOptions();
  let prefix = V3_DISCOVERY_PREFIX;
  let ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS;
  let address: HttpAddress | null = null;
  if (values.conf !== undefined) {
    const found = corefileDirectives(values.conf, "discovery").map((b) =>
      parseDiscovery(b.directive)
    );
    const unique = [...new Map(found.map((c) => [JSON.stringify([c.etcd, c.prefix]), c])).values()];
    if (unique.length === 0) throw new UsageError(`${values.conf} has no discovery block`);
    if (unique.length > 1) {
      throw new UsageError(`${values.conf} has several different discovery blocks`);
    }
    ({ etcd, prefix, ttlSeconds, address } = unique[0]);
  }
  etcd = etcdFromFlags(values, etcd);
  if (values.prefix !== undefined) {
    prefix = values.prefix.replace(/\/+$/, "");
    if (!prefix.startsWith("/")) throw new UsageError("--prefix must start with '/'");
  }
  if (values.ttl !== undefined) {
    const ms = parseDurationMs(values.ttl);
    if (ms === null) throw new UsageError(`--ttl: ${notADuration("ttl", values.ttl)}`);
    if (ms < 60_000) {
      throw new UsageError(`--ttl must be at least 1m, like 30m or 24h, got '${values.ttl}'`);
    }
    ttlSeconds = Math.floor(ms / 1000);
  }
  let url = values.url ?? urlOf(address ?? null);
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new UsageError(`--url must look like http://HOST:PORT, got '${url}'`);
  }
  url = url.replace(/\/+$/, "");
  return { etcd, prefix, ttlSeconds, url };
}

/** The URL etcd on this node uses to reach the discovery block's address. */
function urlOf(address: HttpAddress | null): string {
  if (!address) return `http://${DEFAULT_DISCOVERY_ADDRESS}`;
  // Every address, or none given: each node reaches its own etcdns on loopback.
  const host = ["", "0.0.0.0", "::"].includes(address.host) ? "127.0.0.1" : address.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

function layouts(s: DiscoverySettings): TokenLayout[] {
  const prefixes = [...new Set([s.prefix, V3_DISCOVERY_PREFIX])];
  return prefixes.map((p) => new TokenLayout(p));
}

async function create(client: EtcdClient, s: DiscoverySettings, values: Values): Promise<number> {
  const size = Number(values.size);
  const token = values.token ?? newToken();
  try {
    await createToken(client, layouts(s), token, size, s.ttlSeconds);
  } catch (err) {
    if (/already exists/.test(errorMessage(err))) throw new TokenExistsError(errorMessage(err));
    throw err;
  }
  const v2 = `--discovery ${s.url}/${token}`;
  const v3 = [`--discovery-token ${token}`, `--discovery-endpoints ${s.etcd.endpoints.join(",")}`];
  if (s.etcd.tls?.ca) v3.push(`--discovery-cacert ${s.etcd.tls.ca}`);
  if (s.etcd.tls?.cert) v3.push(`--discovery-cert ${s.etcd.tls.cert}`);
  if (s.etcd.tls?.key) v3.push(`--discovery-key ${s.etcd.tls.key}`);
  if (s.etcd.username !== undefined) v3.push(`--discovery-user ${s.etcd.username}`);
  if (values.json) {
    console.log(JSON.stringify(
      {
        token,
        size,
        ttl: s.ttlSeconds,
        url: `${s.url}/${token}`,
        v2_flags: v2,
        v3_flags: v3.join(" "),
        etcd_endpoints: s.etcd.endpoints,
      },
      null,
      2,
    ));
    return 0;
  }
  console.log(`# token ${token}: ${size} members, expires in ${hours(s.ttlSeconds)}`);
  console.log(`# etcd 3.4 / 3.5 (served by etcdns's discovery plugin):`);
  console.log(v2);
  console.log(`# etcd 3.6+ (v3 discovery, straight to etcd):`);
  console.log(v3.join(" "));
  if (s.etcd.username !== undefined) console.log(`# and --discovery-password for that user`);
  return 0;
}

function hours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${Math.round(seconds / 60)}m`;
}

/** A token read through every layout it may live in (ours, and etcd 3.6+'s). */
async function readAll(client: EtcdClient, s: DiscoverySettings, token: string) {
  const states: TokenState[] = [];
  for (const layout of layouts(s)) states.push(await readToken(client, layout, token));
  const withSize = states.find((st) => st.sizeKey) ?? null;
  const members = new Map<string, TokenState["members"][number]>();
  for (const st of states) for (const m of st.members) if (!members.has(m.id)) members.set(m.id, m);
  const list = [...members.values()].sort((a, b) => a.createRevision - b.createRevision);
  return { state: withSize, members: list };
}

async function show(
  client: EtcdClient,
  s: DiscoverySettings,
  token: string,
  json: boolean,
): Promise<number> {
  const { state, members } = await readAll(client, s, token);
  if (!state?.sizeKey) {
    console.error(`etcdns discovery: token ${token} does not exist (or has expired)`);
    return 1;
  }
  let ttl: number | null = null;
  if (state.sizeKey.lease !== "0") {
    try {
      ttl = Number((await client.leaseTimeToLive(state.sizeKey.lease)).TTL);
    } catch {
      ttl = -1;
    }
  }
  const size = state.size;
  const rows = members.map((m, i) => ({
    id: m.id,
    peers: m.value,
    created_revision: m.createRevision,
    member: size !== null && i < size,
  }));
  const expected = size === null ? null : Math.max(0, size - members.length);
  if (json) {
    console.log(JSON.stringify(
      { token, size, registered: rows.length, expected, ttl, members: rows },
      null,
      2,
    ));
    return 0;
  }
  console.log(
    `token ${token}: size ${size ?? `(bad: '${state.sizeKey.value}')`}, ${
      ttl === null ? "no expiry" : ttl < 0 ? "lease gone" : `expires in ${ttl}s`
    }`,
  );
  for (const r of rows) {
    console.log(
      `  ${r.id.padEnd(16)}  ${r.peers}${r.member ? "" : "  (past the size: proxy or refused)"}`,
    );
  }
  console.log(
    expected === null
      ? `${rows.length} registered`
      : expected > 0
      ? `${rows.length} of ${size} registered, ${expected} still expected`
      : `${Math.min(rows.length, size!)} of ${size} registered: complete`,
  );
  return 0;
}

async function remove(client: EtcdClient, s: DiscoverySettings, token: string): Promise<number> {
  const deleted = await deleteToken(client, layouts(s), token);
  if (deleted === 0) {
    console.error(`etcdns discovery: token ${token} does not exist (or has expired)`);
    return 1;
  }
  console.log(`deleted token ${token} (${deleted} keys)`);
  return 0;
}
