/** Zone arguments of plugins: normalised, and defaulting to the server block's zones. */
import type { Position } from "../corefile/types.ts";
import { fqdn } from "../dns/message.ts";
import { fail } from "../corefile/args.ts";
import { reverseZonesOf } from "../corefile/keys.ts";

/**
 * Normalises zone arguments (lowercase FQDN; a CIDR becomes its reverse zones). With no
 * arguments the plugin serves the server block's zones, as in CoreDNS.
 */
export function pluginZones(
  args: readonly string[],
  blockZones: readonly string[],
  at: Position,
  plugin: string,
): string[] {
  if (args.length === 0) return [...blockZones];
  const zones: string[] = [];
  for (const arg of args) {
    if (arg.includes("/")) {
      const reverse = reverseZonesOf(arg);
      if (!reverse) fail(at, plugin, `'${arg}' is not a valid CIDR`);
      zones.push(...reverse);
    } else {
      if (arg.includes(":") || arg.includes(" ")) fail(at, plugin, `'${arg}' is not a valid zone`);
      zones.push(fqdn(arg));
    }
  }
  return zones;
}
