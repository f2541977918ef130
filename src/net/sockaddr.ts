/**
 * struct sockaddr_in / sockaddr_in6 bytes for Linux: the family in host (little-endian) order,
 * the port and address in network order.
 */

/** Linux address families. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** The 4 bytes of a dotted IPv4 address, or null when it is not one. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** The 16 bytes of an IPv6 address (`::` and a trailing dotted IPv4 allowed), or null. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.includes("%")) return null; // zone ids are not supported
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The sockaddr for `hostname` (an IP literal) and `port`, or null when it is not an IP. */
export function sockaddr(hostname: string, port: number): Uint8Array | null {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return null;
  const v4 = parseIpv4(hostname);
  if (v4) {
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    new DataView(sa.buffer).setUint16(2, port, false);
    sa.set(v4, 4);
    return sa;
  }
  const v6 = parseIpv6(hostname.replace(/^\[(.*)\]$/, "$1"));
  if (!v6) return null;
  const sa = new Uint8Array(28); // family, port, flowinfo, address, scope id
  new DataView(sa.buffer).setUint16(0, AF_INET6, true);
  new DataView(sa.buffer).setUint16(2, port, false);
  sa.set(v6, 8);
  return sa;
}
