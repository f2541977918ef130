/** Long-running programs a test starts: their output kept as text, and a stop that leaks nothing. */

/** A spawned program. */
export interface Spawned {
  readonly child: Deno.ChildProcess;
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Everything it printed so far, stdout and stderr in the order they came. */
  output(): string;
  /** The exit status once it has exited, else null. */
  exited(): Deno.CommandStatus | null;
  /**
   * Sends `signal` (SIGKILL after `graceMs` if it still runs), then waits for the exit and the
   * last of the output.
   */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
}

/** Spawns `cmd ARGS` with no stdin, collecting stdout and stderr. */
export function spawnCollecting(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Spawned {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const readers = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited: Deno.CommandStatus | null = null;
  const status = child.status.then((s) => (exited = s));
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  return {
    child,
    status,
    output: () => text,
    exited: () => exited,
    async stop(signal: Deno.Signal = "SIGTERM", graceMs = 10_000) {
      if (!exited) {
        kill(signal);
        const killer = signal === "SIGKILL"
          ? undefined
          : setTimeout(() => kill("SIGKILL"), graceMs);
        await status;
        clearTimeout(killer);
      }
      await readers;
      return status;
    },
  };
}
