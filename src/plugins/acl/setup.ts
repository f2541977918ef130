/**
 * acl's setup: `acl [ZONES...] { ACTION [type QTYPE...] [net SOURCE...] }`, parsed as CoreDNS's
 * plugin/acl/setup.go parses it. Several `acl` directives in one server block make one plugin
 * whose rules are checked in Corefile order, as in CoreDNS.
 */
import { types } from "../../dns/codes.ts";
import type { ServerKey } from "../../corefile/types.ts";
import type { Directive } from "../../corefile/types.ts";
import type { Setup, SetupContext } from "../../plugin/plugin.ts";
import { expectNoBlock, fail } from "../../corefile/args.ts";
import { NetSet } from "../../plugin/netset.ts";
import { pluginZones } from "../../plugin/zones.ts";
import { Acl, type AclAction, type AclPolicy, type AclRule } from "./handler.ts";

const PLUGIN = "acl";
const ACTIONS: ReadonlySet<string> = new Set(["allow", "block", "filter", "drop"]);

function isSection(token: string): boolean {
  const t = token.toLowerCase();
  return t === "type" || t === "net";
}

/** Whether `name` is a record type name (CoreDNS's dns.StringToType is case-sensitive too). */
function isQtype(name: string): boolean {
  return /^[A-Z][A-Z0-9-]*$/.test(name) && types.toType(name) !== 0;
}

/** Parses one policy line: `ACTION [type QTYPE...] [net SOURCE...]`. */
export function parsePolicy(p: Directive): AclPolicy {
  expectNoBlock(p, PLUGIN);
  const action = p.name.toLowerCase();
  if (!ACTIONS.has(action)) {
    fail(p, PLUGIN, `unexpected token '${p.name}'; expect 'allow', 'block', 'filter' or 'drop'`);
  }
  let qtypes: Set<string> | null = null; // null: every type
  let anyType = false;
  let nets: string[] | null = null; // null: every source
  let tokens = p.args;
  while (tokens.length > 0) {
    if (!isSection(tokens[0])) {
      fail(p, PLUGIN, `unexpected token '${tokens[0]}'; expect 'type | net'`);
    }
    const section = tokens[0].toLowerCase();
    let i = 1;
    while (i < tokens.length && !isSection(tokens[i])) i++;
    const values = tokens.slice(1, i);
    tokens = tokens.slice(i);
    if (values.length === 0) fail(p, PLUGIN, `no token specified in '${section}' section`);
    if (section === "type") {
      qtypes ??= new Set();
      for (const v of values) {
        if (v === "*") {
          anyType = true;
          break;
        }
        if (!isQtype(v)) fail(p, PLUGIN, `unexpected token '${v}'; expect legal QTYPE`);
        qtypes.add(v);
      }
    } else {
      nets ??= [];
      for (const v of values) {
        if (v === "*") {
          nets.push("*");
          break;
        }
        nets.push(v);
      }
    }
  }
  let sources = NetSet.ANY;
  if (nets !== null) {
    const parsed = NetSet.parse(nets);
    if ("bad" in parsed) fail(p, PLUGIN, `illegal CIDR notation '${parsed.bad}'`);
    sources = parsed;
  }
  return {
    action: action as AclAction,
    qtypes: qtypes === null || anyType ? null : qtypes,
    sources,
  };
}

/** Parses one `acl` directive into a rule: its zones and its policies in order. */
export function parseAcl(d: Directive, ctx: Pick<SetupContext, "zones">): AclRule {
  const zones = pluginZones(d.args, ctx.zones, d, PLUGIN);
  const policies = (d.block ?? []).map(parsePolicy);
  return { zones, policies };
}

/**
 * The acl plugin of each server block being set up, so that later directives add rules to it:
 * per config being built (its readiness registry is new each time) and per block (its keys).
 */
const building = new WeakMap<object, WeakMap<readonly ServerKey[], Acl>>();

/** Sets up acl; a second `acl` in the same block adds its rule to the first one's plugin. */
export const setupAcl: Setup = (d, ctx) => {
  const rule = parseAcl(d, ctx);
  let blocks = building.get(ctx.readiness);
  if (blocks === undefined) {
    blocks = new WeakMap();
    building.set(ctx.readiness, blocks);
  }
  const existing = blocks.get(ctx.keys);
  if (existing) {
    existing.rules.push(rule);
    return null;
  }
  const acl = new Acl([rule]);
  blocks.set(ctx.keys, acl);
  return acl;
};
