/**
 * etcd connection settings as the Corefile writes them, shared by every plugin that talks to
 * etcd (idetcd, etcdhosts) and by the CLI: `endpoint`, `credentials`, `tls`, `timeout`.
 */
import type { Directive } from "../corefile/types.ts";
import { expectArgs, fail, parseDuration } from "../corefile/args.ts";

/** How to reach etcd. */
export interface EtcdOptions {
  /** `http://`, `https://` or `dns+srv://DOMAIN` URLs. */
  endpoints: string[];
  username?: string;
  password?: string;
  /** Client TLS: file paths. Present (even empty) means "use TLS". */
  tls?: { cert?: string; key?: string; ca?: string };
  /** Deadline for one unary call and for dialing, in milliseconds. */
  timeoutMs: number;
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
export function normaliseEndpoint(text: string): string | { error: string } {
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

/**
 * If `d` is an etcd connection property (`endpoint URL...`, `credentials USER PASS`,
 * `tls [CERT KEY] [CA]`, `timeout D`), applies it to `opts` and returns true; else false.
 * Errors go through `fail()`, so they read `FILE:LINE - plugin/NAME: ...`.
 */
export function parseEtcdProperty(d: Directive, plugin: string, opts: EtcdOptions): boolean {
  switch (d.name) {
    case "endpoint": {
      expectArgs(d, plugin, 1, Infinity);
      const endpoints: string[] = [];
      for (const arg of d.args) {
        const e = normaliseEndpoint(arg);
        if (typeof e !== "string") fail(d, plugin, e.error);
        endpoints.push(e);
      }
      const secure = endpoints.filter((e) => e.startsWith("https://")).length;
      const plain = endpoints.filter((e) => e.startsWith("http://")).length;
      if (secure > 0 && plain > 0) {
        fail(d, plugin, "endpoints mix http:// and https://; use one scheme for all of them");
      }
      opts.endpoints = endpoints;
      return true;
    }
    case "credentials":
      expectArgs(d, plugin, 2);
      if (d.args[0] === "") fail(d, plugin, "credentials need a non-empty user name");
      opts.username = d.args[0];
      opts.password = d.args[1];
      return true;
    case "tls": {
      // As CoreDNS's tls: none = server-verified TLS with system CAs, one = CA, two = client
      // cert and key, three = cert, key and CA.
      expectArgs(d, plugin, 0, 3);
      const [a, b, c] = d.args;
      if (d.args.length === 0) opts.tls = {};
      else if (d.args.length === 1) opts.tls = { ca: a };
      else if (d.args.length === 2) opts.tls = { cert: a, key: b };
      else opts.tls = { cert: a, key: b, ca: c };
      return true;
    }
    case "timeout": {
      expectArgs(d, plugin, 1);
      const ms = parseDuration(d.args[0], d, plugin, "timeout");
      if (ms <= 0) fail(d, plugin, `timeout must be positive, got '${d.args[0]}'`);
      opts.timeoutMs = ms;
      return true;
    }
    default:
      return false;
  }
}

/** A stable key for `opts`, so that plugins with identical settings share one client. */
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
