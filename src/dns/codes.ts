/**
 * Type and class codes as dns-packet names them: its own tables (types.js, classes.js), which
 * ship without TypeScript types, seen through one typed declaration.
 */
import * as dnsPacketClasses from "dns-packet/classes.js";
import * as dnsPacketTypes from "dns-packet/types.js";

/** The OPT pseudo-record's type code. */
export const OPT_TYPE = 41;

/** dns-packet's type table: "A" for 1, "UNKNOWN_300" for 300; toType is 0 for a name it lacks. */
export const types: {
  toString(code: number): string;
  toType(name: string): number;
} = dnsPacketTypes; // untyped (dns-packet has no declarations): this is its shape

/** dns-packet's class table: "IN" for 1, "UNKNOWN_7" for 7; toClass is 0 for a name it lacks. */
export const classes: {
  toString(code: number): string;
  toClass(name: string): number;
} = dnsPacketClasses; // untyped, as above
