/**
 * CLI settings from YAML: `~/.etcdns.yaml` by default. dnsctl's settings files are accepted as
 * they are, so an operator's existing file keeps working:
 *
 * - the etcdns layout, also read by the first dnsctl: `dnskey`, `etcd.endpoints`, `etcd.cert`,
 *   `etcd.key`, `etcd.ca` (plus `hosts.key`, `etcd.username`, ...);
 * - dnsctl v1 (github.com/mritd/dnsctl, now etcdhosts/dnsctl, through etcdhosts/client-go v1):
 *   flat keys `endpoints`, `ca`, `cert`, `key` (the client key), `user_name`, `password`,
 *   `hosts_key`, `dial_timeout`, `req_timeout`; `ca`, `cert` and `key` may hold the base64 of
 *   the PEM file instead of a path;
 * - dnsctl v2 (etcdhosts/dnsctl internal/config): flat keys `endpoints`, `key` (the hosts
 *   key), `ca`, `cert`, `cert_key`, `username`, `password`, `dial_timeout`, `req_timeout`.
 *
 * The flat `key` is the client key when `cert` is given without `cert_key` (dnsctl v1 needs
 * both cert and key; v2 calls its client key `cert_key`), else the hosts key. A TLS value that
 * is base64 of PEM (`LS0t...`) or PEM text is used as the data itself, not as a path.
 */
import { parse as parseYaml } from "yaml";
import { Buffer } from "node:buffer";
import {
  applyEtcdSettings,
  type EtcdOptions,
  type EtcdSetting,
  EtcdSettingsError,
  type EtcdSettingsInput,
  isInlinePem,
} from "../etcd/options.ts";
import { errorMessage } from "../util/errors.ts";

/** Settings read from a YAML file. */
export interface YamlSettings {
  /** The file they came from. */
  path: string;
  /** The file's etcd settings over the defaults (by the rules of `applyEtcdSettings`). */
  etcd: EtcdOptions;
  /** The etcd key of the hosts file (`hosts.key`, or dnsctl's `dnskey`), when given. */
  hostsKey?: string;
}

/** An example settings file, printed by `etcdns hosts config`. */
export const EXAMPLE_CONFIG = `# etcdns CLI settings: ~/.etcdns.yaml (or pass --config FILE).
# dnsctl's ~/.dnsctl.yaml (v1 or v2) is read as it is when ~/.etcdns.yaml does not exist.
etcd:
  endpoints:
    - https://172.16.10.11:2379
    - https://172.16.10.12:2379
    - https://172.16.10.13:2379
  # client TLS (omit all three for plain http://): file paths ('~' is your home directory),
  # or the PEM text itself, or its base64 (LS0t...)
  cert: /etc/etcd/ssl/etcd.pem
  key: /etc/etcd/ssl/etcd-key.pem
  ca: /etc/etcd/ssl/etcd-root-ca.pem
  # username: root
  # password: secret
  timeout: 5s
hosts:
  # the etcd key of the hosts file, as the Corefile's etcdhosts 'key' (dnsctl: dnskey)
  key: /etcdhosts
`;

const TOP_KEYS = ["etcd", "hosts", "dnskey"];
/** The YAML key of each etcd setting, under `etcd:` (dnsctl's names, plus ours). */
const YAML_KEYS: Readonly<Record<EtcdSetting, string>> = {
  endpoints: "endpoints",
  username: "username",
  password: "password",
  cert: "cert",
  key: "key",
  ca: "ca",
  timeout: "timeout",
};
const ETCD_KEYS = Object.values(YAML_KEYS);
const HOSTS_KEYS = ["key"];
const NESTED_NAMES = Object.fromEntries(
  Object.entries(YAML_KEYS).map(([k, v]) => [k, `etcd.${v}`]),
) as Record<EtcdSetting, string>;

/** dnsctl v1 and v2's top-level keys (see the head of this file). */
const FLAT_KEYS = [
  "endpoints",
  "key",
  "hosts_key",
  "ca",
  "cert",
  "cert_key",
  "username",
  "user_name",
  "password",
  "dial_timeout",
  "req_timeout",
];

/** The home directory, for `~` in paths and the default files. */
export function homeDir(): string | undefined {
  return Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
}

/** Expands a leading `~` to the home directory, as dnsctl does. */
export function expandHome(path: string): string {
  const home = homeDir();
  if (home === undefined) return path;
  if (path === "~") return home;
  return path.startsWith("~/") ? home + path.slice(1) : path;
}

/**
 * The settings file to use when none is named: `~/.etcdns.yaml`, else `~/.dnsctl.yaml`, else
 * none (defaults and flags only).
 */
export function defaultConfigPath(): string | undefined {
  const home = homeDir();
  if (home === undefined) return undefined;
  for (const name of [".etcdns.yaml", ".dnsctl.yaml"]) {
    const path = `${home}/${name}`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there; try the next
    }
  }
  return undefined;
}

/** Reads and checks a settings file. Throws an Error naming the file and the bad key. */
export function loadYamlSettings(path: string): YamlSettings {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new Error(
      `cannot read the settings file ${path}: ${errorMessage(err)}`,
    );
  }
  return parseYamlSettings(text, path);
}

/** Parses settings YAML `text` (from `path`, for messages). */
export function parseYamlSettings(text: string, path: string): YamlSettings {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid YAML: ${errorMessage(err)}`);
  }
  let input: EtcdSettingsInput = {};
  let hostsKey: string | undefined;
  /** Where each etcd setting came from, for messages. */
  let names: Readonly<Record<EtcdSetting, string>> = NESTED_NAMES;
  if (doc !== null && doc !== undefined) {
    const top = mapping(doc, path, "the document");
    if (Object.keys(top).some((k) => FLAT_KEYS.includes(k))) {
      ({ input, hostsKey, names } = flatInput(top, path));
    } else {
      unknownKeys(top, TOP_KEYS, path, "");
      if (top.dnskey !== undefined) hostsKey = str(top.dnskey, path, "dnskey");
      if (top.hosts !== undefined && top.hosts !== null) {
        const hosts = mapping(top.hosts, path, "hosts");
        unknownKeys(hosts, HOSTS_KEYS, path, "hosts.");
        if (hosts.key !== undefined) hostsKey = str(hosts.key, path, "hosts.key");
      }
      if (top.etcd !== undefined && top.etcd !== null) {
        input = etcdInput(mapping(top.etcd, path, "etcd"), path);
      }
    }
    if (hostsKey === "") throw new Error(`${path}: the hosts key must not be empty`);
  }
  try {
    return { path, etcd: applyEtcdSettings(input), hostsKey };
  } catch (err) {
    if (err instanceof EtcdSettingsError) {
      throw new Error(`${path}: ${names[err.setting]}: ${err.message}`);
    }
    throw err;
  }
}

/** The raw etcd settings of the `etcd:` mapping; the rules are checked by the caller. */
function etcdInput(etcd: Record<string, unknown>, path: string): EtcdSettingsInput {
  unknownKeys(etcd, ETCD_KEYS, path, "etcd.");
  const input: EtcdSettingsInput = {};
  if (etcd.endpoints !== undefined) {
    input.endpoints = endpointList(etcd.endpoints, path, "etcd.endpoints");
  }
  if (etcd.username !== undefined) input.username = str(etcd.username, path, "etcd.username");
  if (etcd.password !== undefined) input.password = str(etcd.password, path, "etcd.password");
  for (const k of ["cert", "key", "ca"] as const) {
    const v = etcd[k];
    if (v !== undefined && v !== null && v !== "") input[k] = tlsValue(v, path, `etcd.${k}`);
  }
  if (etcd.timeout !== undefined) input.timeout = str(etcd.timeout, path, "etcd.timeout");
  return input;
}

/** The settings of dnsctl v1's and v2's flat layout. */
function flatInput(top: Record<string, unknown>, path: string): {
  input: EtcdSettingsInput;
  hostsKey?: string;
  names: Record<EtcdSetting, string>;
} {
  unknownKeys(top, FLAT_KEYS, path, "");
  const given = (k: string) => top[k] !== undefined && top[k] !== null && top[k] !== "";
  // v1 needs cert and key together and has no cert_key; v2 names its client key cert_key.
  const keyIsClientKey = given("cert") && !given("cert_key");
  const clientKey = keyIsClientKey ? "key" : "cert_key";
  const user = given("user_name") ? "user_name" : "username";
  const timeout = given("req_timeout") ? "req_timeout" : "dial_timeout";
  const names: Record<EtcdSetting, string> = {
    endpoints: "endpoints",
    username: user,
    password: "password",
    cert: "cert",
    key: clientKey,
    ca: "ca",
    timeout,
  };
  const input: EtcdSettingsInput = {};
  if (top.endpoints !== undefined) input.endpoints = endpointList(top.endpoints, path, "endpoints");
  if (given(user)) input.username = str(top[user], path, user);
  if (given("password")) input.password = str(top.password, path, "password");
  if (given("cert")) input.cert = tlsValue(top.cert, path, "cert");
  if (given(clientKey)) input.key = tlsValue(top[clientKey], path, clientKey);
  if (given("ca")) input.ca = tlsValue(top.ca, path, "ca");
  if (given(timeout)) input.timeout = goDuration(top[timeout], path, timeout);
  let hostsKey: string | undefined;
  if (given("hosts_key")) hostsKey = str(top.hosts_key, path, "hosts_key");
  else if (!keyIsClientKey && given("key")) hostsKey = str(top.key, path, "key");
  return { input, hostsKey, names };
}

/**
 * A Go `time.Duration` as dnsctl's YAML holds it: a string such as `5s`, or a bare number of
 * nanoseconds.
 */
function goDuration(v: unknown, path: string, what: string): string {
  if (typeof v === "number") return `${v / 1e6}ms`;
  return str(v, path, what);
}

/**
 * A TLS setting: PEM text, or base64 of PEM (dnsctl v1 embeds certificates so), is the data
 * itself; anything else is a path, `~` expanded.
 */
function tlsValue(v: unknown, path: string, what: string): string {
  const text = str(v, path, what);
  if (isInlinePem(text)) return text;
  const compact = text.replace(/\s+/g, "");
  if (compact.startsWith("LS0t")) {
    const pem = Buffer.from(compact, "base64").toString("utf8");
    if (!isInlinePem(pem)) {
      throw new Error(`${path}: ${what} looks like base64 but does not decode to PEM`);
    }
    return pem;
  }
  return expandHome(text);
}

function endpointList(v: unknown, path: string, what: string): string[] {
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list)) {
    throw new Error(`${path}: ${what} must be a list of URLs, e.g. [http://127.0.0.1:2379]`);
  }
  return list.map((e, i) => str(e, path, `${what}[${i}]`));
}

function mapping(v: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error(`${path}: ${what} must be a mapping of keys to values`);
  }
  return v as Record<string, unknown>;
}

function unknownKeys(
  m: Record<string, unknown>,
  known: readonly string[],
  path: string,
  prefix: string,
): void {
  for (const k of Object.keys(m)) {
    if (!known.includes(k)) {
      throw new Error(
        `${path}: unknown setting '${prefix}${k}'; known: ${
          known.map((x) => prefix + x).join(", ")
        }`,
      );
    }
  }
}

function str(v: unknown, path: string, what: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new Error(`${path}: ${what} must be a string`);
}
