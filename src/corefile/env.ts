/** Environment variable substitution in Corefile tokens: `{$VAR}` and `{%VAR%}`. */

/** Looks up an environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** Reads the process environment. A name the OS cannot hold (e.g. with `=`) is simply unset. */
export function processEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (e) {
    if (e instanceof TypeError) return undefined;
    throw e;
  }
}

/**
 * Replaces every `{$VAR}` and `{%VAR%}` in `text` with the variable's value; an unset variable
 * becomes the empty string, as in CoreDNS. An empty name (`{$}`) or an unclosed reference stays
 * as written. Substituted values are not scanned again, so a value cannot expand itself.
 */
export function expandEnv(text: string, lookup: EnvLookup = processEnv): string {
  if (!text.includes("{$") && !text.includes("{%")) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const unix = text.startsWith("{$", i);
    if (!unix && !text.startsWith("{%", i)) {
      out += text[i++];
      continue;
    }
    const close = unix ? "}" : "%}";
    const end = text.indexOf(close, i + 2);
    if (end <= i + 2) {
      // No name or no closing mark: not a reference, keep the two characters as they are.
      out += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    out += lookup(text.slice(i + 2, end)) ?? "";
    i = end + close.length;
  }
  return out;
}
