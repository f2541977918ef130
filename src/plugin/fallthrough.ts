/** The `fallthrough [ZONES...]` rule, the one implementation every plugin uses. */
import type { Directive } from "../corefile/types.ts";
import { inZone } from "../dns/message.ts";
import { pluginZones } from "./zones.ts";

/** Which names a plugin passes on to the next plugin instead of answering negatively. */
export class Fallthrough {
  /** No fallthrough at all (the default when the property is absent). */
  static readonly NONE = new Fallthrough([]);

  private constructor(readonly zones: readonly string[]) {}

  /** Parses `fallthrough [ZONES...]`; no zones means every name (the root zone). */
  static parse(d: Directive, plugin: string): Fallthrough {
    return new Fallthrough(d.args.length === 0 ? ["."] : pluginZones(d.args, ["."], d, plugin));
  }

  /** Whether a negative answer for `qname` (lowercased FQDN) should go to the next plugin. */
  covers(qname: string): boolean {
    for (const z of this.zones) if (inZone(qname, z)) return true;
    return false;
  }
}
