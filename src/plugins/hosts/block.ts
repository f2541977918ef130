/**
 * The Corefile block properties the hosts and etcdhosts plugins share: inline entries, `ttl`,
 * `no_reverse` and `fallthrough`, with CoreDNS's rule that any line before `fallthrough` that
 * is not a property is an inline hosts entry, and any unknown line after it is an error.
 */
import type { Directive } from "../../corefile/types.ts";
import { expectArgs, expectNoBlock, fail, parseInteger } from "../../corefile/args.ts";
import { Fallthrough } from "../../plugin/fallthrough.ts";
import { parseIp } from "../../hostsfile/ip.ts";
import { type HostsRecord, parseHosts } from "../../hostsfile/parse.ts";

/** The default answer TTL, as in CoreDNS hosts and etcdhosts. */
export const DEFAULT_HOSTS_TTL = 3600;

/** The shared part of a hosts-like plugin's configuration. */
export interface HostsBlockConfig {
  ttl: number;
  /** False with `no_reverse`. */
  reverse: boolean;
  fallthrough: Fallthrough;
  /** Inline entries from the Corefile, already filtered to the zones. */
  inline: HostsRecord[];
  /** The inline lines as written, for resource keys and messages. */
  inlineText: string;
}

/**
 * Parses the block of `d`. `extra(p)` handles the plugin's own properties and returns whether
 * it did. Errors read `FILE:LINE - plugin/NAME: ...`.
 */
export function parseHostsBlock(
  d: Directive,
  plugin: string,
  zones: readonly string[],
  extra: (p: Directive) => boolean,
): HostsBlockConfig {
  const config: HostsBlockConfig = {
    ttl: DEFAULT_HOSTS_TTL,
    reverse: true,
    fallthrough: Fallthrough.NONE,
    inline: [],
    inlineText: "",
  };
  let sawFallthrough = false;
  const inlineLines: string[] = [];
  for (const p of d.block ?? []) {
    switch (p.name) {
      case "fallthrough":
        expectNoBlock(p, plugin);
        config.fallthrough = Fallthrough.parse(p, plugin);
        sawFallthrough = true;
        continue;
      case "ttl":
        expectNoBlock(p, plugin);
        expectArgs(p, plugin, 1);
        config.ttl = parseInteger(p.args[0], p, plugin, "ttl", 1, 65535);
        continue;
      case "no_reverse":
        expectNoBlock(p, plugin);
        expectArgs(p, plugin, 0);
        config.reverse = false;
        continue;
    }
    if (extra(p)) continue;
    // As CoreDNS: after `fallthrough`, an unknown line is an error, not an inline entry.
    if (sawFallthrough || parseIp(p.name) === null) {
      fail(p, plugin, `unknown property '${p.name}'`);
    }
    expectNoBlock(p, plugin);
    const line = [p.name, ...p.args].join(" ");
    const { records, problems } = parseHosts(line, { zones });
    if (problems.length > 0) fail(p, plugin, `bad inline entry: ${problems[0].reason}`);
    for (const r of records) config.inline.push({ ...r, line: p.line });
    inlineLines.push(line);
  }
  config.inlineText = inlineLines.join("\n");
  return config;
}
