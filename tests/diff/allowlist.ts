/**
 * The differences from CoreDNS the differential suite tolerates: exactly the table in
 * docs/compatibility.md ("Differences from CoreDNS"); tests/diff/coredns_diff_test.ts checks that
 * the two agree. A class is `TAG:FIELD` (see tests/diff/_compare.ts; TAG ends in `/tcp` for a query
 * over TCP); `*` in an entry matches any characters. An entry with `pending` is a bug being fixed,
 * not an intended difference: the suite prints it loudly, and the lead removes it when the fix
 * merges.
 */
export interface AllowEntry {
  cls: string;
  reason: string;
  pending?: string;
}

export const ALLOWLIST: AllowEntry[] = [
  {
    cls: "*.dup*:answer",
    reason: "a duplicate hosts line answers once; CoreDNS repeats the record",
  },
  {
    cls: "tc.additional:flag.TC",
    reason: "TC is not set when only additional records were dropped; CoreDNS (miekg) sets it",
  },
  {
    cls: "log.bufsize",
    reason: "the log's {>bufsize} shows the client's EDNS size",
  },
  {
    cls: "ptr.v4as6*:*",
    reason:
      "a duplicate hosts line answers once, here a PTR asked in IPv4-mapped ip6.arpa form; CoreDNS repeats the record",
  },
  {
    cls: "*/tcp:opt.present",
    reason:
      "a query without EDNS gets a reply without OPT (RFC 6891), also when forwarded over TCP; CoreDNS passes the upstream's OPT through over TCP",
  },
];

/** Whether `cls` matches an entry's pattern (`*` matches any characters). */
export function matches(pattern: string, cls: string): boolean {
  const re = new RegExp(
    "^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
  );
  return re.test(cls);
}

/** The entry that allows `cls`, if any. */
export function allowed(cls: string): AllowEntry | undefined {
  return ALLOWLIST.find((a) => matches(a.cls, cls));
}
