/**
 * CoreDNS 1.15 as the oracle of answers: where its binary is (built once by scripts/peers into a
 * cache outside the repo; COREDNS_BIN overrides), and starting it on a Corefile on loopback ports.
 * Used by the differential suite, forward's end-to-end comparisons and the benchmark.
 */
import { ROOT } from "./etcdns.ts";
import { freePort } from "./ports.ts";
import { udpExchange } from "./dns_client.ts";
import { makeQuery } from "./query.ts";
import { waitFor } from "./wait.ts";

let located: { path: string } | { skip: string } | undefined;

/** CoreDNS's binary path, or why it is unavailable (Go missing, build failed). Asked once. */
export function corednsPath(): { path: string } | { skip: string } {
  if (located !== undefined) return located;
  const override = Deno.env.get("COREDNS_BIN");
  if (override) return located = { path: override };
  try {
    const out = new Deno.Command(`${ROOT}scripts/peers`, {
      args: ["coredns"],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const err = new TextDecoder().decode(out.stderr).trim();
    if (out.code === 3) located = { skip: err || "Go is not installed (scripts/peers exited 3)" };
    else if (out.code !== 0) {
      located = { skip: `scripts/peers coredns failed (${out.code}): ${err}` };
    } else located = { path: new TextDecoder().decode(out.stdout).trim() };
  } catch (e) {
    located = { skip: `scripts/peers coredns could not run: ${e}` };
  }
  return located;
}

/** The binary's path, or null after logging why a comparison with CoreDNS is skipped. */
export function haveCoreDns(): string | null {
  const found = corednsPath();
  if ("path" in found) return found.path;
  console.log(`%cCoreDNS unavailable, skipping the comparison: ${found.skip}`, "color: yellow");
  return null;
}

/**
 * Waits until the first port answers a UDP query and every port accepts TCP (a block whose
 * upstream is dead or a black hole need not answer at once, so it is only connected to).
 */
export async function waitAnswering(ports: number[], what: string, timeoutMs = 20_000) {
  const probe = makeQuery("probe.invalid", "A", { id: 7 });
  await waitFor(
    `${what} to answer on :${ports[0]}`,
    async () => (await udpExchange(ports[0], probe, 300)) !== null,
    timeoutMs,
    100,
  );
  for (const port of ports) {
    await waitFor(
      `${what} to accept TCP on :${port}`,
      async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        c.close();
        return true;
      },
      timeoutMs,
      100,
    );
  }
}

/** A running CoreDNS. */
export interface TestCoreDns {
  /** The port `{PORT}` in the Corefile became (0 when it had none). */
  readonly port: number;
  /** The process, for CPU and memory readings. */
  readonly pid: number;
  /** What it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** How to start CoreDNS. */
export interface StartCoreDnsOptions {
  /** The binary; default: `corednsPath()` (which builds it on first use). */
  bin?: string;
  /**
   * Ports to wait on until they answer (see `waitAnswering`). Without them only the banner is
   * waited for: a query would start forward's health checks, which some tests time.
   */
  answering?: number[];
}

/**
 * Starts CoreDNS with `corefile` (`{PORT}` replaced by a free port) in a temporary directory and
 * waits for its banner, then for `answering`.
 */
export async function startCoreDns(
  corefile: string,
  options: StartCoreDnsOptions = {},
): Promise<TestCoreDns> {
  let bin = options.bin;
  if (bin === undefined) {
    const found = corednsPath();
    if ("skip" in found) throw new Error(`CoreDNS unavailable: ${found.skip}`);
    bin = found.path;
  }
  const port = corefile.includes("{PORT}") ? freePort() : 0;
  const dir = await Deno.makeTempDir({ prefix: "etcdns-coredns-" });
  await Deno.writeTextFile(`${dir}/Corefile`, corefile.replaceAll("{PORT}", String(port)));
  const child = new Deno.Command(bin, {
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
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    await readers;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitFor("CoreDNS to start", () => {
      if (exited) throw new Error(`CoreDNS exited:\n${out}`);
      return /CoreDNS-\d/.test(out);
    }, 15_000);
    if (options.answering) await waitAnswering(options.answering, "CoreDNS");
  } catch (err) {
    await stop();
    throw new Error(`${err}\n${out}`);
  }
  return { port, pid: child.pid, output: () => out, stop };
}
