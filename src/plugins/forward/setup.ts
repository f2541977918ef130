/**
 * forward's setup: `forward FROM TO... { ... }` to a validated config, with CoreDNS's syntax
 * and defaults.
 */
import type { Directive, Position } from "../../corefile/types.ts";
import type { Setup, SetupContext } from "../../plugin/plugin.ts";
import {
  expectArgs,
  expectNoBlock,
  fail,
  parseDuration,
  parseInteger,
  type TlsFileArgs,
  tlsFileArgs,
  unknownProperty,
} from "../../corefile/args.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { Upstream } from "./upstream.ts";
import type { UpstreamTls } from "./exchange.ts";
import { Forward, type ForwardConfig, type Policy, type TlsFiles, type To } from "./handler.ts";
import { errorMessage } from "../../util/errors.ts";
import { Proxy, ProxyPool } from "./proxy.ts";

const PLUGIN = "forward";

/** CoreDNS's limit on upstreams per forward. */
export const MAX_UPSTREAMS = 15;

/** CoreDNS options that etcdns does not implement, with what to do instead. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  doh_method: "etcdns forwards plain DNS and DNS over TLS only",
  next: "chain several 'forward' lines instead",
  failover: "chain several 'forward' lines instead",
  failfast_all_unhealthy_upstreams: "when all upstreams are down one is tried at random",
  resolver: "give upstreams as IP addresses",
};

/** Parses and validates one forward directive. */
export function parseForward(d: Directive, ctx: SetupContext): ForwardConfig {
  expectArgs(d, PLUGIN, 2, Infinity);
  const fromZones = pluginZones([d.args[0]], ctx.zones, d, PLUGIN);
  if (fromZones.length > 1) {
    ctx.log.warn(
      `${d.file}:${d.line}: '${d.args[0]}' expands to ${fromZones.length} zones; ` +
        `only '${fromZones[0]}' is used, as in CoreDNS`,
    );
  }
  const to = d.args.slice(1).flatMap((arg) => parseTo(arg, d));
  let tlsArgs: { files: TlsFileArgs; at: Directive } | undefined;
  if (to.length > MAX_UPSTREAMS) {
    fail(d, PLUGIN, `more than ${MAX_UPSTREAMS} upstreams configured: ${to.length}`);
  }

  const config: ForwardConfig = {
    from: fromZones[0],
    except: [],
    to,
    forceTcp: false,
    preferUdp: false,
    expireMs: 10_000,
    maxFails: 2,
    policy: "random",
    healthCheckMs: 500,
    healthCheckDomain: ".",
    healthCheckRecursionDesired: true,
    maxConcurrent: 0,
    maxIdleConns: 0,
  };

  for (const p of d.block ?? []) {
    expectNoBlock(p, PLUGIN);
    switch (p.name) {
      case "except":
        expectArgs(p, PLUGIN, 1, Infinity);
        config.except.push(...pluginZones(p.args, [], p, PLUGIN));
        break;
      case "force_tcp":
        expectArgs(p, PLUGIN, 0);
        config.forceTcp = true;
        break;
      case "prefer_udp":
        expectArgs(p, PLUGIN, 0);
        config.preferUdp = true;
        break;
      case "expire":
        expectArgs(p, PLUGIN, 1);
        config.expireMs = parseDuration(p.args[0], p, PLUGIN, "expire");
        break;
      case "max_fails":
        expectArgs(p, PLUGIN, 1);
        config.maxFails = parseInteger(p.args[0], p, PLUGIN, "max_fails", 0, 2 ** 32 - 1);
        break;
      case "policy":
        expectArgs(p, PLUGIN, 1);
        config.policy = parsePolicy(p.args[0], p);
        break;
      case "health_check":
        parseHealthCheck(p, config);
        break;
      case "max_concurrent":
        expectArgs(p, PLUGIN, 1);
        config.maxConcurrent = parseInteger(p.args[0], p, PLUGIN, "max_concurrent", 0);
        break;
      case "max_connect_attempts":
        expectArgs(p, PLUGIN, 1);
        config.maxConnectAttempts = parseInteger(
          p.args[0],
          p,
          PLUGIN,
          "max_connect_attempts",
          0,
          2 ** 32 - 1,
        );
        break;
      case "max_idle_conns":
        expectArgs(p, PLUGIN, 1);
        config.maxIdleConns = parseInteger(p.args[0], p, PLUGIN, "max_idle_conns", 0);
        break;
      case "tls":
        tlsArgs = { files: tlsFileArgs(p, PLUGIN), at: p };
        break;
      case "tls_servername":
        expectArgs(p, PLUGIN, 1);
        config.tlsServerName = p.args[0];
        break;
      default:
        if (p.name in UNSUPPORTED) {
          fail(p, PLUGIN, `'${p.name}' is not supported by etcdns: ${UNSUPPORTED[p.name]}`);
        }
        unknownProperty(p, PLUGIN);
    }
  }
  // As in CoreDNS, force_tcp wins over prefer_udp.
  if (config.forceTcp) config.preferUdp = false;
  if (tlsArgs) config.tls = readTls(tlsArgs.files, tlsArgs.at);
  for (const t of to) {
    if (!t.tls) continue;
    if (t.serverName !== undefined && config.tlsServerName !== undefined) {
      fail(
        d,
        PLUGIN,
        `both forward ('${config.tlsServerName}') and upstream level ('${t.serverName}') TLS ` +
          `server names are set for ${hostPortOf(t)}`,
      );
    }
    const name = t.serverName ?? config.tlsServerName;
    if (name !== undefined && config.tls?.cert !== undefined) {
      fail(
        d,
        PLUGIN,
        `a client certificate ('tls CERT KEY') with a TLS server name is not supported by ` +
          `etcdns: Deno cannot send a client certificate and check another name than the address`,
      );
    }
  }
  return config;
}

function hostPortOf(t: { hostname: string; port: number }): string {
  return t.hostname.includes(":") ? `[${t.hostname}]:${t.port}` : `${t.hostname}:${t.port}`;
}

/** `tls [CERT KEY] [CA]` (CoreDNS: none, CA, CERT KEY, or CERT KEY CA), files read now. */
/** The PEM contents of the `tls` files, read at setup so a bad path is a FILE:LINE error. */
function readTls(files: TlsFileArgs, at: Position): TlsFiles {
  const read = (path: string, what: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (err) {
      return fail(at, PLUGIN, `tls: cannot read the ${what} '${path}': ${errorMessage(err)}`);
    }
  };
  const out: TlsFiles = {};
  if (files.cert !== undefined) out.cert = read(files.cert, "certificate");
  if (files.key !== undefined) out.key = read(files.key, "key");
  if (files.ca !== undefined) out.ca = read(files.ca, "CA file");
  return out;
}

function parsePolicy(text: string, at: Position): Policy {
  if (text === "random" || text === "round_robin" || text === "sequential") return text;
  return fail(at, PLUGIN, `unknown policy '${text}': use random, round_robin or sequential`);
}

function parseHealthCheck(p: Directive, config: ForwardConfig): void {
  expectArgs(p, PLUGIN, 1, 4);
  config.healthCheckMs = parseDuration(p.args[0], p, PLUGIN, "health_check");
  for (let i = 1; i < p.args.length; i++) {
    const opt = p.args[i];
    if (opt === "no_rec") {
      config.healthCheckRecursionDesired = false;
    } else if (opt === "domain") {
      const name = p.args[++i];
      if (name === undefined) fail(p, PLUGIN, "health_check: 'domain' needs a domain name");
      config.healthCheckDomain = pluginZones([name], [], p, PLUGIN)[0];
    } else {
      fail(p, PLUGIN, `health_check: unknown option '${opt}': use no_rec or domain FQDN`);
    }
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Parses one TO: `[dns://]IP[:PORT]`, `[dns://][IPv6]:PORT`, `tls://IP[%NAME][:PORT]` (default
 * port 853; NAME is this upstream's TLS server name, as CoreDNS's), or a resolv.conf file.
 */
function parseTo(arg: string, d: Directive): To[] {
  let text = arg;
  let tls = false;
  let serverName: string | undefined;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    if (name === "tls") {
      tls = true;
    } else if (name !== "dns") {
      fail(
        d,
        PLUGIN,
        `'${arg}': ${
          scheme[1]
        }:// is not supported; etcdns forwards plain DNS (dns:// or no prefix) and DNS over ` +
          `TLS (tls://)`,
      );
    }
    text = text.slice(scheme[0].length);
  }
  if (tls) {
    // CoreDNS's tls://IP%NAME[:PORT]: NAME runs to the last ':' after the '%' (or to the end).
    const pct = text.lastIndexOf("%");
    if (pct >= 0) {
      let rest = text.slice(pct + 1);
      let port = "";
      const colon = rest.lastIndexOf(":");
      if (colon >= 0) {
        port = rest.slice(colon);
        rest = rest.slice(0, colon);
      }
      serverName = rest.replace(/\]$/, "");
      if (serverName === "") fail(d, PLUGIN, `'${arg}': empty TLS server name after '%'`);
      text = text.slice(0, pct) + (text.startsWith("[") ? "]" : "") + port;
    }
  }
  const addr = parseHostPort(text, d, arg, tls ? 853 : 53);
  if (addr) return [serverName === undefined ? { ...addr, tls } : { ...addr, tls, serverName }];
  if (!scheme) {
    const servers = readResolvConf(text);
    if (servers !== null) {
      if (servers.length === 0) fail(d, PLUGIN, `'${arg}' lists no nameserver`);
      return servers.map((s) => {
        const a = parseHostPort(s, d, s, 53);
        if (!a) fail(d, PLUGIN, `'${arg}': nameserver '${s}' is not an IP address`);
        return { ...a, tls: false };
      });
    }
  }
  return fail(
    d,
    PLUGIN,
    `'${arg}' is not an upstream: use IP, IP:PORT, [IPv6]:PORT, dns://IP:PORT, tls://IP:PORT ` +
      `or a resolv.conf file`,
  );
}

/** `IP`, `IP:PORT`, `[IPv6]`, `[IPv6]:PORT` or a bare IPv6; null if `text` is none of these. */
function parseHostPort(
  text: string,
  at: Position,
  arg: string,
  defaultPort: number,
): { hostname: string; port: number } | null {
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (text.split(":").length === 2) {
    [host, portText] = text.split(":");
  }
  const port = portText === undefined
    ? defaultPort
    : parseInteger(portText, at, PLUGIN, `the port of '${arg}'`, 1, 65535);
  if (IPV4.test(host)) return { hostname: host, port };
  if (host.includes(":")) {
    const v6 = normaliseIpv6(host);
    if (v6) return { hostname: v6, port };
  }
  return null;
}

function normaliseIpv6(host: string): string | null {
  if (!/^[0-9a-fA-F:.]+$/.test(host)) return null;
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** The nameserver addresses of a resolv.conf file, or null when `path` is not a readable file. */
function readResolvConf(path: string): string[] | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return null;
  }
  const servers: string[] = [];
  for (const line of text.split("\n")) {
    const fields = line.replace(/[#;].*/, "").trim().split(/\s+/);
    if (fields[0] === "nameserver" && fields[1]) servers.push(fields[1]);
  }
  return servers;
}

/** The pool key: the same upstreams with the same socket and probe settings share one pool. */
function poolKey(c: ForwardConfig): string {
  const to = c.to.map((t) =>
    `${t.tls ? `tls:${t.serverName ?? c.tlsServerName ?? ""}@` : ""}${t.hostname}#${t.port}`
  ).join(",");
  const tls = c.tls ? JSON.stringify(c.tls) : "";
  return `forward:${to}|tcp=${c.forceTcp}|expire=${c.expireMs}|idle=${c.maxIdleConns}|` +
    `hc=${c.healthCheckMs}|${c.healthCheckDomain}|rd=${c.healthCheckRecursionDesired}|tls=${tls}`;
}

/** The TLS settings of one `tls://` upstream. */
function upstreamTls(c: ForwardConfig, t: To): UpstreamTls {
  return {
    serverName: t.serverName ?? c.tlsServerName,
    caCerts: c.tls?.ca === undefined ? undefined : [c.tls.ca],
    cert: c.tls?.cert,
    key: c.tls?.key,
  };
}

/** Builds the upstream pool of a config (opens nothing until the first query). */
export function newProxyPool(c: ForwardConfig, channel: string | null = null): ProxyPool {
  return new ProxyPool(
    c.to.map((t) =>
      new Proxy(
        new Upstream(t.hostname, t.port, {
          expireMs: c.expireMs,
          maxIdleConns: c.maxIdleConns,
          tls: t.tls ? upstreamTls(c, t) : undefined,
        }),
        {
          intervalMs: c.healthCheckMs,
          transport: c.forceTcp ? "tcp" : "udp",
          domain: c.healthCheckDomain,
          recursionDesired: c.healthCheckRecursionDesired,
        },
      )
    ),
    channel,
  );
}

/** The forward directive's setup. */
export const setupForward: Setup = (d, ctx) => {
  const config = parseForward(d, ctx);
  // The key also names the pool in every thread, whose upstreams' health it shares.
  const key = poolKey(config);
  const pool = ctx.resources.use(key, () => newProxyPool(config, key));
  return new Forward(config, pool);
};
