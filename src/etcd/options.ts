/**
 * The one etcd settings type, `EtcdOptions`, and the one parser every source feeds: a
 * Corefile block (`endpoint`, `credentials`, `tls`, `timeout`, through `parseEtcdProperty`
 * here), the CLI's YAML file (cli/config.ts) and command-line flags (cli/settings.ts), both
 * through `applyEtcdSettings`. Shared by every
 * plugin that talks to etcd (idetcd, etcdhosts, discovery) and by every CLI command.
 */
import type { Directive } from "../corefile/types.ts";
import { expectArgs, fail, tlsFileArgs } from "../corefile/args.ts";
import { notADuration, parseDurationMs } from "../util/duration.ts";

/** How to reach etcd. */
export interface EtcdOptions {
  /** `http://`, `https://` or `dns+srv://DOMAIN` URLs. */
  endpoints: string[];
  username?: string;
  password?: string;
  /**
   * Client TLS: file paths, or the PEM text itself (see `isInlinePem`; dnsctl's settings file
   * may embed the certificates). Present (even empty) means "use TLS".
   */
  tls?: { cert?: string; key?: string; ca?: string };
  /** Deadline for one unary call and for dialing, in milliseconds. */
  timeoutMs: number;
}

/** True when a TLS setting holds PEM text itself rather than a file path. */
export function isInlinePem(value: string): boolean {
  return value.trimStart().startsWith("-----BEGIN ");
}

/** A TLS setting for messages: its path, or `inline PEM` (never the key material). */
export function tlsLabel(value: string | undefined): string {
  return value !== undefined && isInlinePem(value) ? "inline PEM" : String(value);
}

/** The endpoint used when none is configured, as in the original idetcd and etcdhosts. */
export const DEFAULT_ENDPOINT = "http://localhost:2379";

/** The default call timeout, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Fresh default options: `http://localhost:2379`, 5 s timeout. */
export function defaultEtcdOptions(): EtcdOptions {
  return { endpoints: [DEFAULT_ENDPOINT], timeoutMs: DEFAULT_TIMEOUT_MS };
}

/**
 * Checks one endpoint URL and returns it normalised (a bare `host:port` becomes `http://host:port`).
 * Returns an error message instead when it is not usable.
 */
function normaliseEndpoint(text: string): string | { error: string } {
  let url = text;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `http://${url}`;
  const scheme = url.slice(0, url.indexOf("://")).toLowerCase();
  if (scheme !== "http" && scheme !== "https" && scheme !== "dns+srv") {
    return {
      error: `endpoint '${text}' has scheme '${scheme}'; use http://, https:// or dns+srv://DOMAIN`,
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(scheme === "dns+srv" ? `http://${url.slice("dns+srv://".length)}` : url);
  } catch {
    return { error: `endpoint '${text}' is not a valid URL, e.g. http://10.0.0.1:2379` };
  }
  if (parsed.hostname === "") return { error: `endpoint '${text}' has no host` };
  if (parsed.pathname !== "/" && parsed.pathname !== "") {
    return { error: `endpoint '${text}' must not have a path` };
  }
  if (scheme === "dns+srv") {
    if (parsed.port !== "") {
      return { error: `endpoint '${text}': dns+srv:// takes a domain without a port` };
    }
    return `dns+srv://${parsed.hostname}`;
  }
  return `${scheme}://${parsed.host}`;
}

/** The etcd settings every source can give, by their neutral names. */
export type EtcdSetting = "endpoints" | "username" | "password" | "cert" | "key" | "ca" | "timeout";

/**
 * Raw etcd settings as a source gives them, not yet checked. Every source (a Corefile block,
 * the YAML file, command-line flags) fills one of these and hands it to `applyEtcdSettings`,
 * so the rules and the messages are the same everywhere.
 */
export interface EtcdSettingsInput {
  /** Endpoint URLs; each entry may hold several, separated by commas and/or spaces. */
  endpoints?: readonly string[];
  username?: string;
  password?: string;
  cert?: string;
  key?: string;
  ca?: string;
  /** TLS with no files at all (server verified against the system roots): bare `tls`. */
  tls?: boolean;
  /** A Go-style duration (`5s`, `500ms`, `1m`); a bare number is refused. */
  timeout?: string;
}

/**
 * A setting that breaks the rules. The message is the same whatever the source; each source
 * prefixes its own location (`FILE:LINE - plugin/NAME:`, `~/.etcdns.yaml: etcd.timeout:`,
 * `--timeout:`), found from `setting`.
 */
export class EtcdSettingsError extends Error {
  constructor(readonly setting: EtcdSetting, message: string) {
    super(message);
    this.name = "EtcdSettingsError";
  }
}

/** Splits endpoint lists on commas and whitespace. */
function splitEndpoints(list: readonly string[]): string[] {
  return list.flatMap((e) => e.split(/[\s,]+/)).filter((e) => e !== "");
}

/**
 * Applies `input` on top of `base` (default: `defaultEtcdOptions()`) and returns the result;
 * `base` is not changed. The rules, for every source alike:
 *
 * - endpoints split on commas and spaces; each must be http://, https:// or dns+srv:// (a bare
 *   `host:port` means http://); http:// and https:// must not be mixed;
 * - a password needs a user name (a user without a password has the empty password);
 * - a client certificate needs its key, and a key its certificate; any TLS file (or bare
 *   `tls`) replaces the TLS settings of a lower source whole;
 * - the timeout is a Go-style duration (`5s`, `500ms`, `1m`), positive; a bare number is no
 *   duration.
 *
 * Throws EtcdSettingsError naming the setting.
 */
export function applyEtcdSettings(
  input: EtcdSettingsInput,
  base: EtcdOptions = defaultEtcdOptions(),
): EtcdOptions {
  const opts: EtcdOptions = { ...base, endpoints: [...base.endpoints] };
  if (input.endpoints !== undefined) {
    const list = splitEndpoints(input.endpoints);
    if (list.length === 0) {
      throw new EtcdSettingsError("endpoints", "endpoint needs at least one URL");
    }
    opts.endpoints = list.map((text) => {
      const e = normaliseEndpoint(text);
      if (typeof e !== "string") throw new EtcdSettingsError("endpoints", e.error);
      return e;
    });
    const secure = opts.endpoints.some((e) => e.startsWith("https://"));
    const plain = opts.endpoints.some((e) => e.startsWith("http://"));
    if (secure && plain) {
      throw new EtcdSettingsError(
        "endpoints",
        "endpoints mix http:// and https://; use one scheme for all of them",
      );
    }
  }
  if (input.password !== undefined && input.username === undefined) {
    throw new EtcdSettingsError("password", "a password needs a user name");
  }
  if (input.username !== undefined) {
    if (input.username === "") {
      throw new EtcdSettingsError("username", "the user name must not be empty");
    }
    opts.username = input.username;
    opts.password = input.password ?? "";
  }
  const files = { cert: input.cert, key: input.key, ca: input.ca };
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new EtcdSettingsError(
      files.cert === undefined ? "key" : "cert",
      "a client certificate and its key go together; give both or neither",
    );
  }
  if (input.tls || Object.values(files).some((v) => v !== undefined)) {
    const tls: NonNullable<EtcdOptions["tls"]> = {};
    for (const k of ["cert", "key", "ca"] as const) if (files[k] !== undefined) tls[k] = files[k];
    opts.tls = tls;
  }
  if (input.timeout !== undefined) {
    const ms = parseDurationMs(input.timeout);
    if (ms === null) throw new EtcdSettingsError("timeout", notADuration("timeout", input.timeout));
    if (ms <= 0) {
      throw new EtcdSettingsError("timeout", `timeout must be positive, got '${input.timeout}'`);
    }
    opts.timeoutMs = ms;
  }
  return opts;
}

/**
 * If `d` is an etcd connection property (`endpoint URL...`, `credentials USER PASS`,
 * `tls [CERT KEY] [CA]`, `timeout D`), applies it to `opts` and returns true; else false.
 * Errors go through `fail()`, so they read `FILE:LINE - plugin/NAME: ...`.
 */
export function parseEtcdProperty(d: Directive, plugin: string, opts: EtcdOptions): boolean {
  const input: EtcdSettingsInput = {};
  switch (d.name) {
    case "endpoint":
      expectArgs(d, plugin, 1, Infinity);
      input.endpoints = d.args;
      break;
    case "credentials":
      expectArgs(d, plugin, 2);
      input.username = d.args[0];
      input.password = d.args[1];
      break;
    case "tls":
      input.tls = true;
      Object.assign(input, tlsFileArgs(d, plugin));
      break;
    case "timeout":
      expectArgs(d, plugin, 1);
      input.timeout = d.args[0];
      break;
    default:
      return false;
  }
  try {
    Object.assign(opts, applyEtcdSettings(input, opts));
  } catch (err) {
    if (err instanceof EtcdSettingsError) fail(d, plugin, err.message);
    throw err;
  }
  return true;
}

/** A stable key for `opts`: the etcd pool's key, and part of the plugins' resource keys. */
export function etcdOptionsKey(opts: EtcdOptions): string {
  return JSON.stringify([
    opts.endpoints,
    opts.username ?? null,
    opts.password ?? null,
    opts.tls ? [opts.tls.cert ?? null, opts.tls.key ?? null, opts.tls.ca ?? null] : null,
    opts.timeoutMs,
  ]);
}

/** The endpoints as one string, for messages: `http://a:2379, http://b:2379`. */
export function describeEndpoints(opts: EtcdOptions): string {
  return opts.endpoints.join(", ");
}
