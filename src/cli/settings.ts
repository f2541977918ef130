/**
 * Where the CLI commands get their settings: the etcd connection flags every command shares
 * (`hosts`, `slots`, `discovery` take exactly the same ones, with the same meaning and
 * messages), the Corefile blocks `-conf` points at, and the hosts command's layering of
 * defaults, then a YAML file or a Corefile, then flags. The flags are one source of the etcd
 * settings, as YAML (config.ts) and Corefile blocks are; the rules themselves live in
 * src/etcd/options.ts, and here a flag that breaks one becomes a UsageError naming it.
 */
import { type Directive, loadCorefile } from "../corefile/mod.ts";
import {
  applyEtcdSettings,
  DEFAULT_ENDPOINT,
  DEFAULT_TIMEOUT_MS,
  defaultEtcdOptions,
  type EtcdOptions,
  type EtcdSetting,
  EtcdSettingsError,
  type EtcdSettingsInput,
} from "../etcd/options.ts";
import { DEFAULT_KEY, parseEtcdHosts } from "../plugins/etcdhosts/setup.ts";
import { defaultConfigPath, expandHome, loadYamlSettings } from "./config.ts";
import { type FlagValues, UsageError } from "./flags.ts";

/** The etcd connection flags, as `parseFlags` specs; spread them into a command's specs. */
export const ETCD_FLAG_SPECS = {
  endpoint: { type: "list" },
  user: { type: "string" },
  password: { type: "string" },
  cert: { type: "string" },
  "cert-key": { type: "string" },
  ca: { type: "string" },
  timeout: { type: "string" },
} as const;

/** Parsed values of the etcd flags. */
export type EtcdFlagValues = FlagValues<typeof ETCD_FLAG_SPECS>;

/** The command-line flag of each setting (the same for hosts, slots and discovery). */
const ETCD_FLAGS: Readonly<Record<EtcdSetting, keyof EtcdFlagValues>> = {
  endpoints: "endpoint",
  username: "user",
  password: "password",
  cert: "cert",
  key: "cert-key",
  ca: "ca",
  timeout: "timeout",
};

/** The usage lines for the etcd flags. */
export const ETCD_FLAGS_USAGE =
  `  --endpoint URL[,URL...]   etcd endpoint(s); repeat, or separate with commas or spaces
                            (default ${DEFAULT_ENDPOINT})
  --user U --password P     etcd credentials (--password needs --user)
  --cert F --cert-key F     etcd client certificate and its key (both or neither)
  --ca F                    the CA that signed etcd's server certificate
  --timeout D               etcd call timeout, e.g. 500ms or 5s (default ${
    DEFAULT_TIMEOUT_MS / 1000
  }s)`;

/** The etcd settings the flags in `values` give, for `applyEtcdSettings`. */
function etcdInputFromFlags(values: EtcdFlagValues): EtcdSettingsInput {
  const input: EtcdSettingsInput = {};
  for (
    const [setting, flag] of Object.entries(ETCD_FLAGS) as [EtcdSetting, keyof EtcdFlagValues][]
  ) {
    const v = values[flag];
    if (v === undefined) continue;
    if (setting === "endpoints") input.endpoints = typeof v === "string" ? [v] : v;
    else input[setting] = typeof v === "string" ? v : v[v.length - 1];
  }
  return input;
}

/**
 * Applies the etcd flags in `values` on top of `base` (settings from a Corefile or YAML, else
 * the defaults). A flag that breaks a rule is a UsageError: `--timeout: timeout must be ...`.
 */
export function etcdFromFlags(
  values: EtcdFlagValues,
  base: EtcdOptions = defaultEtcdOptions(),
): EtcdOptions {
  try {
    return applyEtcdSettings(etcdInputFromFlags(values), base);
  } catch (err) {
    if (err instanceof EtcdSettingsError) {
      throw new UsageError(`--${ETCD_FLAGS[err.setting]}: ${err.message}`);
    }
    throw err;
  }
}

/** One directive of a Corefile, with the zones and the first port of its server block. */
export interface FoundBlock {
  directive: Directive;
  zones: string[];
  port: number | undefined;
}

/** Every `name` directive of the Corefile at `path` (`dnsPort`: the default port of keys). */
export function corefileDirectives(path: string, name: string, dnsPort?: number): FoundBlock[] {
  const { blocks } = loadCorefile(path, dnsPort === undefined ? {} : { dnsPort });
  return blocks.flatMap((block) =>
    block.directives.filter((d) => d.name === name).map((directive) => ({
      directive,
      zones: [...new Set(block.keys.map((k) => k.zone))],
      port: block.keys[0]?.port,
    }))
  );
}

/** The settings flags of `etcdns hosts`. */
export const HOSTS_SETTINGS_SPECS = {
  config: { type: "string", short: "c" },
  conf: { type: "string" },
  key: { type: "string" },
  ...ETCD_FLAG_SPECS,
} as const;

/** What `etcdns hosts` works with: the etcd settings and the key of the hosts file. */
export interface HostsSettings {
  etcd: EtcdOptions;
  key: string;
}

/**
 * The hosts command's settings: defaults, then a file (YAML by --config or the default file,
 * or a Corefile's first etcdhosts block by -conf), then flags.
 */
export function resolveHostsSettings(
  values: FlagValues<typeof HOSTS_SETTINGS_SPECS>,
): HostsSettings {
  let etcd = defaultEtcdOptions();
  let key = DEFAULT_KEY;
  if (values.conf !== undefined && values.config !== undefined) {
    throw new UsageError("give either --config (YAML) or -conf (Corefile), not both");
  }
  if (values.conf !== undefined) {
    const found = corefileDirectives(values.conf, "etcdhosts")[0];
    if (!found) {
      throw new Error(`${values.conf} has no etcdhosts directive to take the etcd settings from`);
    }
    ({ etcd, key } = parseEtcdHosts(found.directive, found.zones));
  } else {
    const path = values.config ?? defaultConfigPath();
    if (path !== undefined) {
      const y = loadYamlSettings(expandHome(path));
      etcd = y.etcd;
      key = y.hostsKey ?? key;
    }
  }
  if (values.key !== undefined) {
    if (values.key === "") throw new UsageError("--key must not be empty");
    key = values.key;
  }
  return { etcd: etcdFromFlags(values, etcd), key };
}
