/**
 * CIDR networks to reverse zones: `10.0.0.0/8` serves `10.in-addr.arpa.`. A prefix that does
 * not end on an octet (IPv4) or nibble (IPv6) boundary becomes every zone of the next boundary
 * that it covers, as CoreDNS does: `10.0.0.0/7` gives `10.in-addr.arpa.` and `11.in-addr.arpa.`.
 */

/** Parses dotted-quad IPv4 into 4 octets, or null. Leading zeros are refused (octal ambiguity). */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    octets.push(n);
  }
  return octets;
}

/** Parses IPv6 text (with `::` and an optional trailing IPv4) into 32 nibbles, or null. */
export function parseIPv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string, last: boolean): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (last && i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1], true) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const groups = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  return groups.flatMap((g) => [(g >> 12) & 15, (g >> 8) & 15, (g >> 4) & 15, g & 15]);
}

/**
 * The reverse zones (lowercased FQDNs) that `cidr` covers, in address order, or null when
 * `cidr` is not a valid `address/prefix`. Host bits set in the address are ignored.
 */
export function reverseZonesOf(cidr: string): string[] | null {
  const slash = cidr.indexOf("/");
  if (slash < 0 || !/^\d{1,3}$/.test(cidr.slice(slash + 1))) return null;
  const prefix = Number(cidr.slice(slash + 1));
  const addr = cidr.slice(0, slash);
  const v4 = addr.includes(":") ? null : parseIPv4(addr);
  const v6 = v4 ? null : parseIPv6(addr);
  // Units are what one label of the reverse name holds: an octet or a nibble.
  const units = v4 ?? v6;
  if (!units) return null;
  const unitBits = v4 ? 8 : 4;
  const suffix = v4 ? "in-addr.arpa." : "ip6.arpa.";
  if (prefix > units.length * unitBits) return null;

  const labels = Math.ceil(prefix / unitBits);
  const spare = labels * unitBits - prefix; // bits below the prefix up to the boundary
  const kept = units.slice(0, labels);
  if (labels > 0) {
    const mask = ((1 << unitBits) - 1) & ~((1 << spare) - 1);
    kept[labels - 1] &= mask;
  }
  const zones: string[] = [];
  for (let i = 0; i < 1 << spare; i++) {
    const label = kept.slice();
    if (labels > 0) label[labels - 1] += i;
    const text = label.reverse().map((u) => (v4 ? String(u) : u.toString(16)));
    zones.push([...text, suffix].join("."));
  }
  return zones;
}
