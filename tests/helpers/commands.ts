/** Running programs from tests: whether one is installed, and its exit code and output. */

/** Whether `cmd` is on PATH (or an executable path). */
export function which(cmd: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v "${cmd}"`], stdout: "null" })
    .outputSync().success;
}

/** What a finished command gave. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` to the end with no stdin and NO_COLOR=1 (plus `env`), collecting its output. */
export async function runCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CommandResult> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: "null",
    env: { NO_COLOR: "1", ...options.env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
