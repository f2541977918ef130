/**
 * Integers as decimal text, built from digits rather than by `String(n)`.
 *
 * V8 keeps the string of every number it converts in a number-string cache that lives in the old
 * generation, so each new number's string survives the young-generation collections and is
 * promoted. Per-query numbers that are nearly always new (a client's port, a query ID, a
 * duration) then grew the old generation by 2.4 MB/s per thread under load (the log plugin at
 * 50,000 queries/s), and the heap stayed that large after the load. Strings built here die young.
 */

const fromCodes = String.fromCharCode;

/** How many digits `n` (0 to 99,999) has. */
const digitCount = (n: number) => n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;

/** `n` (0 to 99,999) in exactly `width` (1 to 5) digits: one string allocation, no loop. */
function digits(n: number, width: number): string {
  const d0 = 48 + (n % 10);
  if (width === 1) return fromCodes(d0);
  const d1 = 48 + (Math.floor(n / 10) % 10);
  if (width === 2) return fromCodes(d1, d0);
  const d2 = 48 + (Math.floor(n / 100) % 10);
  if (width === 3) return fromCodes(d2, d1, d0);
  const d3 = 48 + (Math.floor(n / 1000) % 10);
  if (width === 4) return fromCodes(d3, d2, d1, d0);
  return fromCodes(48 + (Math.floor(n / 10000) % 10), d3, d2, d1, d0);
}

/** A non-negative safe integer's decimal digits, zero-padded to at least `width`. */
export function decimal(n: number, width = 1): string {
  if (!Number.isSafeInteger(n) || n < 0) return String(n);
  if (n < 1e5 && width <= 5) return digits(n, Math.max(width, digitCount(n)));
  const low = n % 1e5;
  return decimal((n - low) / 1e5, width - 5) + digits(low, 5);
}

/**
 * A count of nanoseconds as seconds in the shortest decimal, as Go's
 * `strconv.FormatFloat(d.Seconds(), 'f', -1, 64)` prints a time.Duration: "0.000123456",
 * "1.5", "0". Exact up to 10^15 ns (11 days), where doubles stop telling such decimals apart.
 */
export function decimalSeconds(ns: number): string {
  const fraction = ns % 1e9;
  const whole = decimal((ns - fraction) / 1e9);
  if (fraction === 0) return whole;
  let significant = fraction;
  let width = 9;
  while (significant % 10 === 0) {
    significant /= 10;
    width--;
  }
  return `${whole}.${decimal(significant, width)}`;
}
