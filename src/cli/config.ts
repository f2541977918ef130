/**
 * CLI settings from YAML: `~/.etcdns.yaml` by default, and dnsctl's `~/.dnsctl.yaml` format
 * (`dnskey`, `etcd.endpoints`, `etcd.cert`, `etcd.key`, `etcd.ca`) is accepted as it is, so an
 * operator's existing file keeps working.
 */
import { parse as parseYaml } from "yaml";
import {
  applyEtcdSettings,
  type EtcdOptions,
  type EtcdSetting,
  EtcdSettingsError,
  type EtcdSettingsInput,
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
# dnsctl's ~/.dnsctl.yaml is read as it is when ~/.etcdns.yaml does not exist.
etcd:
  endpoints:
    - https://172.16.10.11:2379
    - https://172.16.10.12:2379
    - https://172.16.10.13:2379
  # client TLS (omit all three for plain http://); '~' is your home directory
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
  const input: EtcdSettingsInput = {};
  let hostsKey: string | undefined;
  if (doc !== null && doc !== undefined) {
    const top = mapping(doc, path, "the document");
    unknownKeys(top, TOP_KEYS, path, "");
    if (top.dnskey !== undefined) hostsKey = str(top.dnskey, path, "dnskey");
    if (top.hosts !== undefined && top.hosts !== null) {
      const hosts = mapping(top.hosts, path, "hosts");
      unknownKeys(hosts, HOSTS_KEYS, path, "hosts.");
      if (hosts.key !== undefined) hostsKey = str(hosts.key, path, "hosts.key");
    }
    if (hostsKey === "") throw new Error(`${path}: the hosts key must not be empty`);
    if (top.etcd !== undefined && top.etcd !== null) {
      Object.assign(input, etcdInput(mapping(top.etcd, path, "etcd"), path));
    }
  }
  try {
    return { path, etcd: applyEtcdSettings(input), hostsKey };
  } catch (err) {
    if (err instanceof EtcdSettingsError) {
      throw new Error(`${path}: etcd.${YAML_KEYS[err.setting]}: ${err.message}`);
    }
    throw err;
  }
}

/** The raw etcd settings of the `etcd:` mapping; the rules are checked by the caller. */
function etcdInput(etcd: Record<string, unknown>, path: string): EtcdSettingsInput {
  unknownKeys(etcd, ETCD_KEYS, path, "etcd.");
  const input: EtcdSettingsInput = {};
  if (etcd.endpoints !== undefined) {
    const list = typeof etcd.endpoints === "string" ? [etcd.endpoints] : etcd.endpoints;
    if (!Array.isArray(list)) {
      throw new Error(
        `${path}: etcd.endpoints must be a list of URLs, e.g. [http://127.0.0.1:2379]`,
      );
    }
    input.endpoints = list.map((e, i) => str(e, path, `etcd.endpoints[${i}]`));
  }
  if (etcd.username !== undefined) input.username = str(etcd.username, path, "etcd.username");
  if (etcd.password !== undefined) input.password = str(etcd.password, path, "etcd.password");
  for (const k of ["cert", "key", "ca"] as const) {
    const v = etcd[k];
    if (v !== undefined && v !== null && v !== "") input[k] = expandHome(str(v, path, `etcd.${k}`));
  }
  if (etcd.timeout !== undefined) input.timeout = str(etcd.timeout, path, "etcd.timeout");
  return input;
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
