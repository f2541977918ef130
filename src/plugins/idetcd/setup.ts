/**
 * `idetcd [ZONES...] { ... }`: parses and checks the block, then wires the watched view, the
 * slot claimer (both shared, reload-surviving resources) and the handler. Opens nothing.
 */
import type { Directive } from "../../corefile/types.ts";
import { fqdn, matchZone } from "../../dns/message.ts";
import { parseIp } from "../../hostsfile/ip.ts";
import {
  defaultEtcdOptions,
  type EtcdOptions,
  etcdOptionsKey,
  parseEtcdProperty,
} from "../../etcd/options.ts";
import type { Setup } from "../../plugin/plugin.ts";
import {
  expectArgs,
  fail,
  parseDuration,
  parseInteger,
  unknownProperty,
} from "../../corefile/args.ts";
import { Fallthrough } from "../../plugin/fallthrough.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { type OnFull, SlotClaimer } from "./claimer.ts";
import type { Addresses } from "./node.ts";
import { IdetcdPlugin, type SrvService } from "./handler.ts";
import { Pattern, PatternError } from "./pattern.ts";
import { SlotLayout } from "./slots.ts";
import { SlotView } from "./view.ts";
import { SlotViewReplica } from "./replica.ts";

const P = "idetcd";

/** Defaults, as in the original plugin where it has them. */
export const DEFAULT_LIMIT = 10;
export const DEFAULT_LEASE_SECONDS = 20;
export const DEFAULT_TTL = 10;

/** A checked idetcd block. */
export interface IdetcdConfig {
  zones: string[];
  etcd: EtcdOptions;
  limit: number;
  pattern: Pattern;
  leaseSeconds: number;
  ttl: number;
  /** Fixed addresses, or null to detect them. */
  address: Addresses | null;
  nodeId?: string;
  /** Key prefix without a trailing slash, or "". */
  prefix: string;
  onFull: OnFull;
  srv: SrvService[];
  fallthrough: Fallthrough;
}

/** Parses an idetcd directive into a config; errors read `FILE:LINE - plugin/idetcd: ...`. */
export function parseIdetcd(d: Directive, blockZones: readonly string[]): IdetcdConfig {
  const zones = pluginZones(d.args, blockZones, d, P);
  const etcd = defaultEtcdOptions();
  let limit = DEFAULT_LIMIT;
  let limitAt: Directive | null = null;
  let pattern: Pattern | null = null;
  let patternAt: Directive | null = null;
  let leaseSeconds = DEFAULT_LEASE_SECONDS;
  let ttl = DEFAULT_TTL;
  let address: Addresses | null = null;
  let nodeId: string | undefined;
  let prefix = "";
  let onFull: OnFull = "fail";
  const srvLines: { service: string; port: number }[] = [];
  let fallthrough = Fallthrough.NONE;

  for (const p of d.block ?? []) {
    if (parseEtcdProperty(p, P, etcd)) continue;
    switch (p.name) {
      case "limit":
        expectArgs(p, P, 1);
        limit = parseInteger(p.args[0], p, P, "limit", 1, 100_000);
        limitAt = p;
        break;
      case "pattern": {
        expectArgs(p, P, 1, Infinity);
        // The lexer splits `{{printf "%02d" .ID}}` at its spaces; the template is the whole line.
        const source = p.args.join(" ");
        try {
          pattern = Pattern.parse(source);
        } catch (err) {
          if (err instanceof PatternError) fail(p, P, err.message);
          throw err;
        }
        patternAt = p;
        break;
      }
      case "lease": {
        expectArgs(p, P, 1);
        const ms = parseDuration(p.args[0], p, P, "lease", true);
        if (ms < 1000) fail(p, P, `lease must be at least 1s, got '${p.args[0]}'`);
        leaseSeconds = Math.ceil(ms / 1000);
        break;
      }
      case "ttl": {
        expectArgs(p, P, 1);
        const ms = parseDuration(p.args[0], p, P, "ttl", true);
        ttl = Math.round(ms / 1000);
        if (ttl > 2 ** 31 - 1) fail(p, P, `ttl is too large: '${p.args[0]}'`);
        break;
      }
      case "address": {
        expectArgs(p, P, 1, 2);
        const a: Addresses = {};
        for (const text of p.args) {
          const ip = parseIp(text);
          if (!ip) fail(p, P, `'${text}' is not an IP address`);
          const family = text.includes(":") ? "ipv6" : "ipv4";
          if (family === "ipv6" && ip.family !== 6) {
            fail(p, P, `'${text}' is an IPv4-mapped address; write the IPv4 address`);
          }
          if (a[family]) fail(p, P, `address takes at most one IPv4 and one IPv6 address`);
          a[family] = ip.text;
        }
        address = a;
        break;
      }
      case "node_id":
        expectArgs(p, P, 1);
        if (p.args[0].trim() === "") fail(p, P, "node_id must not be empty");
        nodeId = p.args[0];
        break;
      case "prefix":
        expectArgs(p, P, 1);
        prefix = p.args[0].replace(/\/+$/, "");
        if (prefix === "" && p.args[0] !== "") prefix = "/";
        break;
      case "on_full":
        expectArgs(p, P, 1);
        if (p.args[0] !== "fail" && p.args[0] !== "wait") {
          fail(p, P, `on_full must be 'fail' or 'wait', got '${p.args[0]}'`);
        }
        onFull = p.args[0];
        break;
      case "srv": {
        expectArgs(p, P, 2);
        const service = p.args[0].toLowerCase();
        if (!/^_[a-z0-9][a-z0-9-]*\._(tcp|udp)$/.test(service)) {
          fail(p, P, `srv service must look like _etcd-server._tcp, got '${p.args[0]}'`);
        }
        srvLines.push({ service, port: parseInteger(p.args[1], p, P, "srv port", 1, 65535) });
        break;
      }
      case "fallthrough":
        fallthrough = Fallthrough.parse(p, P);
        break;
      default:
        unknownProperty(p, P);
    }
  }

  if (!pattern || !patternAt) {
    fail(d, P, "missing 'pattern', e.g. 'pattern worker{{.ID}}.example.org.' inside the block");
  }
  const problem = pattern.checkNames(limit);
  if (problem) fail(limitAt && limit > 1 ? limitAt : patternAt, P, problem);
  const sample = fqdn(pattern.render(1));
  if (matchZone(sample, zones) === undefined) {
    fail(
      patternAt,
      P,
      `pattern names such as '${sample}' are outside the zones this plugin serves (${
        zones.join(", ")
      })`,
    );
  }
  const srv = srvLines.map((s) => ({
    owner: `${s.service}.${pattern.domain === "." ? "" : pattern.domain}`,
    port: s.port,
  }));
  return {
    zones,
    etcd,
    limit,
    pattern,
    leaseSeconds,
    ttl,
    address,
    nodeId,
    prefix,
    onFull,
    srv,
    fallthrough,
  };
}

/** Sets up idetcd: parses the block and asks the pool for the view and the claimer. */
export const setupIdetcd: Setup = (d, ctx) => {
  const c = parseIdetcd(d, ctx.zones);
  const dnsPort = ctx.keys[0]?.port ?? 53;
  const layout = new SlotLayout(c.pattern, c.prefix);
  // The keys carry everything that shapes the resource, so an unchanged block keeps its view
  // and its slot across reloads, and a changed one gets new ones.
  const viewKey = `idetcd/view ${
    JSON.stringify([etcdOptionsKey(c.etcd), c.prefix, c.pattern.source])
  }`;
  // Watching and claiming are per node (the main thread); a worker answers from a replica.
  const watched = ctx.resources.perNode(
    viewKey,
    () => new SlotView(c.etcd, layout, ctx.log, viewKey),
  );
  const view = watched ??
    ctx.resources.use(`${viewKey}|replica`, () => new SlotViewReplica(viewKey));
  const claimKey = `idetcd/claim ${
    JSON.stringify([
      viewKey,
      c.limit,
      c.leaseSeconds,
      c.address,
      c.nodeId ?? null,
      c.onFull,
      dnsPort,
    ])
  }`;
  if (watched !== null) {
    const claimer = ctx.resources.use(claimKey, () =>
      new SlotClaimer(
        {
          etcd: c.etcd,
          layout,
          limit: c.limit,
          leaseSeconds: c.leaseSeconds,
          address: c.address,
          nodeId: c.nodeId,
          onFull: c.onFull,
          dnsPort,
        },
        watched,
        ctx.log,
      ));
    ctx.readiness.register({ name: P, ready: () => claimer.ready() });
  }
  return new IdetcdPlugin({
    zones: c.zones,
    pattern: c.pattern,
    view,
    ttl: c.ttl,
    srv: c.srv,
    fallthrough: c.fallthrough,
  });
};
