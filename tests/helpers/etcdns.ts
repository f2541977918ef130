/**
 * Starts real etcdns processes for end-to-end tests, through `scripts/start`: the very command
 * `deno task start` runs, with exactly the permission flags the compiled binary has. A missing
 * permission therefore fails here, not on a node.
 */
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The start script (`deno task start`). */
export const START = `${ROOT}scripts/start`;

/** The runtime flags of scripts/flags (what `scripts/start` and the binary run with), as a list. */
export function runtimeFlags(): string[] {
  const text = Deno.readTextFileSync(`${ROOT}scripts/flags`);
  const body = /ETCDNS_RUNTIME_FLAGS=\(([^)]*)\)/.exec(text)![1];
  return body.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter((l) => l !== "");
}

/**
 * The UDP paths a test runs the server on, through ETCDNS_UDP: the native one (libc
 * recvmmsg/sendmmsg; "native" fails the start rather than fall back) and Deno's sockets.
 */
export const UDP_PATHS = ["native", "deno"] as const;

/** Options for one etcdns process. */
export interface EtcdnsOptions {
  /** Corefile text; `{PORT}` is replaced by the chosen DNS port. */
  corefile?: string;
  /** The DNS port to use for `{PORT}` (default: a free one). */
  port?: number;
  /** Extra command-line arguments (after `-conf FILE`). */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Wait until the startup banner shows (default true). False returns at once. */
  waitReady?: boolean;
  /** How long to wait for the banner. */
  timeoutMs?: number;
  /** Start under `ulimit -n N` (the process still has the same pid: the shell execs). */
  ulimitNofile?: number;
}

/** A running etcdns process and its output. */
export class EtcdnsProcess {
  /** Every line printed on stdout and stderr so far. */
  readonly lines: string[] = [];
  readonly #readers: Promise<void>[] = [];
  #status: Promise<Deno.CommandStatus>;
  #exited: Deno.CommandStatus | null = null;

  constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly dir: string,
    readonly corefilePath: string,
  ) {
    this.#readers.push(this.#collect(child.stdout), this.#collect(child.stderr));
    this.#status = child.status.then((s) => (this.#exited = s));
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** The exit status once the process has exited, else null. */
  get exited(): Deno.CommandStatus | null {
    return this.#exited;
  }

  /** All output so far, one string. */
  get output(): string {
    return this.lines.join("\n");
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      this.lines.push(...parts);
    }
    if (rest) this.lines.push(rest);
  }

  /** Waits until a line matches `pattern`; returns it. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return waitFor(`a line matching ${pattern} from etcdns :${this.port}`, () => {
      const line = this.lines.find((l) => pattern.test(l));
      if (!line && this.#exited) {
        throw new Error(`etcdns exited (${this.#exited.code}):\n${this.output}`);
      }
      return line;
    }, timeoutMs);
  }

  /** Sends a signal (ignores a process that is already gone). */
  signal(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
  }

  /** Waits for the process to exit and its output to drain. */
  async wait(): Promise<Deno.CommandStatus> {
    const status = await this.#status;
    await Promise.all(this.#readers);
    return status;
  }

  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`) and removes its directory. */
  async stop(graceMs = 5000): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      this.signal("SIGTERM");
      const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
      await this.#status;
      clearTimeout(timer);
    }
    const status = await this.wait();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    return status;
  }

  /** Kills the process at once, as a crash would. */
  async kill(): Promise<Deno.CommandStatus> {
    this.signal("SIGKILL");
    return await this.wait();
  }

  /** Writes a new Corefile (with `{PORT}` replaced) in place. */
  writeCorefile(text: string): void {
    Deno.writeTextFileSync(this.corefilePath, text.replaceAll("{PORT}", String(this.port)));
  }
}

/** Starts one etcdns with a temporary Corefile; waits for its banner unless told not to. */
export async function startEtcdns(opts: EtcdnsOptions = {}): Promise<EtcdnsProcess> {
  const port = opts.port ?? freePort();
  const dir = await Deno.makeTempDir({ prefix: "etcdns-e2e-" });
  const corefilePath = `${dir}/Corefile`;
  const corefile = opts.corefile ?? ".:{PORT} {\n    whoami\n}\n";
  await Deno.writeTextFile(corefilePath, corefile.replaceAll("{PORT}", String(port)));
  const args = ["-conf", corefilePath, ...(opts.args ?? [])];
  const limited = opts.ulimitNofile !== undefined;
  const child = new Deno.Command(limited ? "bash" : START, {
    args: limited
      ? ["-c", `ulimit -n ${opts.ulimitNofile} && exec "$0" "$@"`, START, ...args]
      : args,
    cwd: dir,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const proc = new EtcdnsProcess(child, port, dir, corefilePath);
  if (opts.waitReady ?? true) {
    try {
      await proc.waitForLine(/^etcdns-\d/, opts.timeoutMs ?? 20_000);
    } catch (err) {
      await proc.stop();
      throw err;
    }
  }
  return proc;
}
