/**
 * CoreDNS 1.15 as the oracle for forward's end-to-end tests: started on a loopback port with a
 * Corefile, when its binary is present (built by scripts/peers into a cache outside the repo).
 */
import { freePort } from "../../helpers/ports.ts";
import { waitFor } from "../../helpers/wait.ts";

/** Where scripts/peers builds CoreDNS; COREDNS_BIN overrides it. */
export const COREDNS_BIN = Deno.env.get("COREDNS_BIN") ??
  `${Deno.env.get("HOME") ?? "/root"}/.cache/etcdns/peers/coredns-v1.15.0`;

/** Whether the CoreDNS binary is there; logs why a comparison is skipped when it is not. */
export function haveCoreDns(): boolean {
  try {
    Deno.statSync(COREDNS_BIN);
    return true;
  } catch {
    console.log(`CoreDNS not found at ${COREDNS_BIN}: skipping the comparison with CoreDNS`);
    return false;
  }
}

/** A running CoreDNS. */
export interface TestCoreDns {
  readonly port: number;
  /** What it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts CoreDNS with `corefile` (`{PORT}` replaced by a free port) in a temporary directory, and
 * waits for its banner (not for an answer: a query would start forward's health checks).
 */
export async function startCoreDns(corefile: string): Promise<TestCoreDns> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "etcdns-coredns-" });
  await Deno.writeTextFile(`${dir}/Corefile`, corefile.replaceAll("{PORT}", String(port)));
  const child = new Deno.Command(COREDNS_BIN, {
    args: ["-conf", `${dir}/Corefile`],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) out += chunk;
  };
  const readers = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) child.kill("SIGKILL");
    await status;
    await readers;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await waitFor("CoreDNS to start", () => {
      if (exited) throw new Error(`CoreDNS exited: ${out}`);
      return /CoreDNS-\d/.test(out);
    }, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, output: () => out, stop };
}
