/** `bind ADDRESS|INTERFACE... { except ADDRESS|INTERFACE... }`: where a server block listens. */
import type { Directive } from "../../corefile/types.ts";
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, fail, unknownProperty } from "../../corefile/args.ts";

/** Resolves addresses and interface names to the addresses to listen on. */
export function bindAddresses(
  d: Directive,
  interfaces: Deno.NetworkInterfaceInfo[] | (() => Deno.NetworkInterfaceInfo[]),
): string[] {
  let ifaces: Deno.NetworkInterfaceInfo[] | null = null;
  const resolve = (item: string): string[] => {
    if (isIpAddress(item)) return [item.replace(/^\[|\]$/g, "")];
    ifaces ??= typeof interfaces === "function" ? interfaces() : interfaces;
    const found = ifaces.filter((i) => i.name === item);
    if (found.length === 0) {
      fail(d, "bind", `'${item}' is neither an IP address nor a network interface of this host`);
    }
    // Link-local IPv6 addresses need a zone to bind; CoreDNS skips them too.
    return found.filter((i) => !i.address.toLowerCase().startsWith("fe80:")).map((i) => i.address);
  };

  const include = d.args.flatMap(resolve);
  const exclude = new Set<string>();
  for (const p of d.block ?? []) {
    if (p.name !== "except") unknownProperty(p, "bind");
    expectArgs(p, "bind", 1, Infinity);
    p.args.flatMap(resolve).forEach((a) => exclude.add(a));
  }
  const result = [...new Set(include)].filter((a) => !exclude.has(a));
  if (result.length === 0) fail(d, "bind", "no address left to listen on after 'except'");
  return result;
}

function isIpAddress(text: string): boolean {
  const t = text.replace(/^\[|\]$/g, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return t.split(".").every((o) => Number(o) <= 255);
  return t.includes(":") && /^[0-9a-fA-F:.]+$/.test(t);
}

/** Sets up bind. It adds no handler to the chain; it only chooses the listen addresses. */
export const setupBind: Setup = (d, ctx) => {
  expectArgs(d, "bind", 1, Infinity);
  ctx.bind(bindAddresses(d, () => Deno.networkInterfaces()));
  return null;
};
