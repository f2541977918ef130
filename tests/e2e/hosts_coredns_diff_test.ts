/**
 * CoreDNS 1.15 and etcdns side by side on the same hosts file (issue 13): the same queries must
 * get the same rcode, flags and answers. Skipped when the CoreDNS peer is not built.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { freePort } from "../helpers/ports.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { waitFor } from "../helpers/wait.ts";

const COREDNS = `${Deno.env.get("HOME") ?? "/root"}/.cache/etcdns/peers/coredns-v1.15.0`;

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The comparable part of a dig reply: status, flags and answer lines (TTL kept). */
function shape(stdout: string): string {
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? "none";
  const flags = /;; flags: ([a-z ]+);/.exec(stdout)?.[1].trim() ?? "";
  const answers = stdout.split("\n").filter((l) => l !== "" && !l.startsWith(";"))
    .map((l) => l.split(/\s+/).join(" ")).sort();
  return [status, flags, ...answers].join("\n");
}

Deno.test({
  name: "hosts vs CoreDNS: IPv4-mapped and plain IPv4 entries, PTR in both reverse forms",
  ignore: !exists(COREDNS),
  async fn() {
    const dir = await Deno.makeTempDir();
    const hostsPath = `${dir}/hosts`;
    await Deno.writeTextFile(
      hostsPath,
      "::ffff:10.0.0.5 mapped.example.test\n10.0.0.9 plain.example.test\n",
    );
    const cPort = freePort();
    await Deno.writeTextFile(`${dir}/Corefile`, `.:${cPort} {\n  hosts ${hostsPath}\n}\n`);
    const coredns = new Deno.Command(COREDNS, {
      args: ["-conf", `${dir}/Corefile`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const etcdns = await startEtcdns({ corefile: `.:{PORT} {\n  hosts ${hostsPath}\n}\n` });
    try {
      await waitFor("CoreDNS answers", async () => {
        return (await dig(cPort, "plain.example.test")).status === "NOERROR";
      });
      const queries = [
        ["-x", "10.0.0.5"],
        ["-x", "::ffff:10.0.0.5"],
        ["-x", "::ffff:10.0.0.9"],
        ["-x", "10.0.0.9"],
        ["mapped.example.test", "A"],
        ["mapped.example.test", "AAAA"],
      ];
      for (const q of queries) {
        const want = shape((await dig(cPort, "+noall", "+comments", "+answer", ...q)).stdout);
        const got = shape((await dig(etcdns.port, "+noall", "+comments", "+answer", ...q)).stdout);
        assert.equal(got, want, q.join(" "));
      }
    } finally {
      coredns.kill("SIGTERM");
      await coredns.status;
      await etcdns.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
