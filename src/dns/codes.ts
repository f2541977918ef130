/**
 * Type, class and EDNS option names, spelled as dns-packet spells them (IANA's mnemonics,
 * `UNKNOWN_300` / `OPTION_300` for the rest). Kept here rather than read from dns-packet's own
 * tables so that a server whose plugins answer from memory never loads dns-packet (the npm
 * layer it brings costs about 10 MB of resident memory); tests/dns/codes_test.ts checks every
 * code against dns-packet's tables.
 */

/** The OPT pseudo-record's type code. */
export const OPT_TYPE = 41;

const TYPE_CODES: ReadonlyMap<string, number> = new Map([
  ["A", 1],
  ["NS", 2],
  ["CNAME", 5],
  ["SOA", 6],
  ["NULL", 10],
  ["PTR", 12],
  ["HINFO", 13],
  ["MX", 15],
  ["TXT", 16],
  ["RP", 17],
  ["AFSDB", 18],
  ["SIG", 24],
  ["KEY", 25],
  ["AAAA", 28],
  ["LOC", 29],
  ["SRV", 33],
  ["NAPTR", 35],
  ["KX", 36],
  ["CERT", 37],
  ["DNAME", 39],
  ["OPT", OPT_TYPE],
  ["APL", 42],
  ["DS", 43],
  ["SSHFP", 44],
  ["IPSECKEY", 45],
  ["RRSIG", 46],
  ["NSEC", 47],
  ["DNSKEY", 48],
  ["DHCID", 49],
  ["NSEC3", 50],
  ["NSEC3PARAM", 51],
  ["TLSA", 52],
  ["HIP", 55],
  ["CDS", 59],
  ["CDNSKEY", 60],
  ["SPF", 99],
  ["TKEY", 249],
  ["TSIG", 250],
  ["IXFR", 251],
  ["AXFR", 252],
  ["ANY", 255],
  ["CAA", 257],
  ["TA", 32768],
  ["DLV", 32769],
]);

const CLASS_CODES: ReadonlyMap<string, number> = new Map([
  ["IN", 1],
  ["CS", 2],
  ["CH", 3],
  ["HS", 4],
  ["ANY", 255],
]);

const OPTION_CODES: ReadonlyMap<string, number> = new Map([
  ["LLQ", 1],
  ["UL", 2],
  ["NSID", 3],
  ["DAU", 5],
  ["DHU", 6],
  ["N3U", 7],
  ["CLIENT_SUBNET", 8],
  ["EXPIRE", 9],
  ["COOKIE", 10],
  ["TCP_KEEPALIVE", 11],
  ["PADDING", 12],
  ["CHAIN", 13],
  ["KEY_TAG", 14],
  ["DEVICEID", 26946],
]);

/** The inverse of a name → code table. */
function namesOf(codes: ReadonlyMap<string, number>): ReadonlyMap<number, string> {
  return new Map([...codes].map(([name, code]) => [code, name]));
}

const TYPE_NAMES = namesOf(TYPE_CODES);
const CLASS_NAMES = namesOf(CLASS_CODES);
const OPTION_NAMES = namesOf(OPTION_CODES);

/** Record types: "A" for 1, "UNKNOWN_300" for 300; toType is 0 for a name it does not know. */
export const types = {
  /** The mnemonic of a type code. */
  toString(code: number): string {
    return TYPE_NAMES.get(code) ?? `UNKNOWN_${code}`;
  },
  /** The code of a mnemonic (any case; `*` is ANY, `UNKNOWN_N` is N), or 0. */
  toType(name: string): number {
    const upper = name.toUpperCase();
    const known = TYPE_CODES.get(upper);
    if (known !== undefined) return known;
    if (upper === "*") return 255;
    return upper.startsWith("UNKNOWN_") ? parseInt(upper.slice(8)) : 0;
  },
};

/** Classes: "IN" for 1, "UNKNOWN_7" for 7; toClass is 0 for a name it does not know. */
export const classes = {
  /** The mnemonic of a class code. */
  toString(code: number): string {
    return CLASS_NAMES.get(code) ?? `UNKNOWN_${code}`;
  },
  /** The code of a mnemonic (any case), or 0. */
  toClass(name: string): number {
    return CLASS_CODES.get(name.toUpperCase()) ?? 0;
  },
};

/** The mnemonic of an EDNS option code: "COOKIE" for 10, "OPTION_300" for 300. */
export function optionName(code: number): string {
  return OPTION_NAMES.get(code) ?? `OPTION_${code}`;
}
