/** IPv6 text, shared by the hosts-file parser and the native sockets' peer addresses. */

/** RFC 5952 text: lowercase, no leading zeros, the longest run of 2+ zero groups as "::". */
export function formatV6(g: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(":");
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(":");
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(":");
  return `${head}::${tail}`;
}
