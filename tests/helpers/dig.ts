/** Queries with the real dig, as users do. */

/** The result of one dig run. */
export interface DigResult {
  code: number;
  stdout: string;
  /** The rcode from the `->>HEADER<<-` line, e.g. "NOERROR", when printed. */
  status: string | null;
  /** The flags from the header line, e.g. ["qr", "aa", "rd"]. */
  flags: string[];
}

/** Runs `dig @127.0.0.1 -p PORT ARGS...` with one try and a short timeout. */
export function dig(port: number, ...args: string[]): Promise<DigResult> {
  return digAt("127.0.0.1", port, ...args);
}

/** Runs `dig @SERVER -p PORT ARGS...` (e.g. SERVER "::1") with one try and a short timeout. */
export async function digAt(server: string, port: number, ...args: string[]): Promise<DigResult> {
  const out = await new Deno.Command("dig", {
    args: [`@${server}`, "-p", String(port), "+tries=1", "+time=3", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? null;
  const flags = /;; flags: ([a-z ]+);/.exec(stdout)?.[1].trim().split(/\s+/) ?? [];
  return { code: out.code, stdout, status, flags };
}

/** `dig +short`: the answer lines, trimmed. */
export function digShort(port: number, ...args: string[]): Promise<string[]> {
  return digShortAt("127.0.0.1", port, ...args);
}

/** `dig @SERVER +short`: the answer lines, trimmed. */
export async function digShortAt(
  server: string,
  port: number,
  ...args: string[]
): Promise<string[]> {
  const r = await digAt(server, port, "+short", ...args);
  return r.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith(";"));
}
