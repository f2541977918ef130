/** CoreDNS as the oracle: where it is, and starting it on a Corefile on loopback ports. */
import { ROOT } from "../helpers/etcdns.ts";
import { waitFor } from "../helpers/wait.ts";
import { udpExchange } from "../helpers/dns_client.ts";
import { buildQuery } from "./_wire.ts";
import { freePort } from "../helpers/ports.ts";

/** CoreDNS's binary path, or the reason it is unavailable (Go missing, build failed). */
export function corednsPath(): { path: string } | { skip: string } {
  try {
    const out = new Deno.Command(`${ROOT}scripts/peers`, {
      args: ["coredns"],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const err = new TextDecoder().decode(out.stderr).trim();
    if (out.code === 3) return { skip: err || "Go is not installed (scripts/peers exited 3)" };
    if (out.code !== 0) return { skip: `scripts/peers coredns failed (${out.code}): ${err}` };
    return { path: new TextDecoder().decode(out.stdout).trim() };
  } catch (e) {
    return { skip: `scripts/peers coredns could not run: ${e}` };
  }
}

/**
 * Waits until the first port answers a UDP query and every port accepts TCP (a block whose
 * upstream is dead or a black hole need not answer at once, so it is only connected to).
 */
export async function waitAnswering(ports: number[], what: string, timeoutMs = 20_000) {
  await waitFor(
    `${what} to answer on :${ports[0]}`,
    async () => {
      const r = await udpExchange(ports[0], buildQuery("probe.invalid", "A", { id: 7 }), 300);
      return r !== null;
    },
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
export interface Coredns {
  output(): string;
  stop(): Promise<void>;
}

/** Starts CoreDNS with `corefile` (ports already substituted); waits until `ports` answer. */
export async function startCoredns(
  bin: string,
  corefile: string,
  ports: number[],
): Promise<Coredns> {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-diff-coredns-" });
  await Deno.writeTextFile(`${dir}/Corefile`, corefile);
  const child = new Deno.Command(bin, {
    args: ["-conf", `${dir}/Corefile`],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s.pipeThrough(new TextDecoderStream())) out += c;
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
      } catch { /* gone */ }
    }
    await status;
    await readers;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitFor("CoreDNS to start", () => {
      if (exited) throw new Error(`CoreDNS exited:\n${out}`);
      return true;
    }, 1000);
    await waitAnswering(ports, "CoreDNS");
  } catch (e) {
    await stop();
    throw new Error(`${e}\n${out}`);
  }
  return { output: () => out, stop };
}

/** `n` free loopback ports, all different (freePort may hand out one twice in a row). */
export function distinctPorts(n: number, avoid: number[] = []): number[] {
  const seen = new Set<number>(avoid);
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < n * 20; tries++) {
    const p = freePort();
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  }
  if (out.length < n) throw new Error(`found only ${out.length} of ${n} distinct free ports`);
  return out;
}
