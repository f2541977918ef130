/**
 * IPv6 address text as RFC 5952 writes it, which is also how Rust (and so Deno) and Go print it:
 * one function for the hosts parser's canonical form and the UDP socket's peer addresses.
 */

/**
 * The text of eight 16-bit groups: lowercase hex without leading zeros, the longest run of two or
 * more zero groups (the first on a tie) as `::`.
 */
export function ipv6GroupsText(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: readonly number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
