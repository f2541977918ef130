/** Output for the CLI commands that write raw bytes as well as lines (`etcdns hosts`). */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes all of `bytes` to `w`. */
export function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let n = 0;
  while (n < bytes.length) n += w.writeSync(bytes.subarray(n));
}

/** Prints a line (a newline is added when missing) to stdout. */
export function out(text: string): void {
  writeAll(Deno.stdout, encode(text.endsWith("\n") ? text : text + "\n"));
}

/** Prints a line (a newline is added when missing) to stderr. */
export function err(text: string): void {
  writeAll(Deno.stderr, encode(text.endsWith("\n") ? text : text + "\n"));
}

/** UTF-8 bytes of `text`. */
export function encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `bytes` as UTF-8 text. */
export function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
