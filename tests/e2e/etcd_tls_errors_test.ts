/**
 * TLS mistakes against a real etcd that demands client certificates (openssl-made CA, server
 * and client certificates, a second CA, a key of another certificate): etcdns exits at start
 * with one line naming the cause, for etcdhosts and idetcd, and the CLI says the same; the
 * right files still work.
 */
import assert from "node:assert/strict";
import { START, startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";

function which(cmd: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .outputSync().success;
}

const ready = which("openssl") && which("etcd");
if (!ready) console.log("skipped: the etcd TLS error tests need openssl and etcd");

/** The certificates: ca (trusted by etcd), ca2 (not), server, client, other (signed by ca2). */
const CERTS = `
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=etcd test CA" -keyout ca-key.pem -out ca.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout ca2-key.pem -out ca2.pem
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' >server.ext
openssl req -newkey rsa:2048 -nodes -subj "/CN=etcd" -keyout server-key.pem -out server.csr
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server.pem
printf 'extendedKeyUsage=clientAuth\\n' >client.ext
openssl req -newkey rsa:2048 -nodes -subj "/CN=etcdns" -keyout client-key.pem -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out client.pem
openssl req -newkey rsa:2048 -nodes -subj "/CN=etcdns" -keyout other-key.pem -out other.csr
openssl x509 -req -in other.csr -CA ca2.pem -CAkey ca2-key.pem -CAcreateserial -days 2 -extfile client.ext -out other.pem
`;

async function run(cmd: string, args: string[], cwd: string) {
  const out = await new Deno.Command(cmd, { args, cwd, stdin: "null", env: { NO_COLOR: "1" } })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const KEY_MISMATCH =
  /client key does not match its certificate \(\S+\/client\.pem, \S+\/other-key\.pem\)/;
const REJECTED =
  /etcd rejected the client certificate \(it is not signed by a CA etcd trusts, or etcd requires one and none was given\)/;

/** Starts etcdns, expects it to exit non-zero at start; returns its output lines. */
async function failsAtStart(corefile: string, cause: RegExp): Promise<string[]> {
  const p = await startEtcdns({ corefile, waitReady: false });
  try {
    const status = await waitFor("etcdns to exit", () => p.exited, 30_000);
    await p.wait();
    assert.notEqual(status.code, 0, p.output);
    const lines = p.lines.filter((l) => l.trim() !== "");
    const naming = lines.filter((l) => cause.test(l));
    assert.equal(naming.length, 1, `one line names the cause:\n${p.output}`);
    assert.equal(lines.length, 1, `and nothing else is printed:\n${p.output}`);
    assert.doesNotMatch(p.output, /unreachable|check that etcd runs/);
    return lines;
  } finally {
    await p.stop();
  }
}

Deno.test({
  name: "etcd TLS errors: a foreign key or a rejected client certificate stop etcdns at start",
  ignore: !ready,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-tls-errors-" });
    const client = freePort();
    let peer = freePort();
    while (peer === client) peer = freePort();
    const endpoint = `https://127.0.0.1:${client}`;
    let etcd: Deno.ChildProcess | null = null;
    let log: Deno.FsFile | null = null;
    let copies: Promise<void>[] = [];
    try {
      const made = await run("bash", ["-euc", CERTS], dir);
      assert.equal(made.code, 0, made.stderr);
      log = await Deno.open(`${dir}/etcd.log`, { write: true, create: true });
      etcd = new Deno.Command("etcd", {
        args: [
          "--name",
          "tls",
          "--data-dir",
          `${dir}/data`,
          "--listen-client-urls",
          endpoint,
          "--advertise-client-urls",
          endpoint,
          "--listen-peer-urls",
          `http://127.0.0.1:${peer}`,
          "--initial-advertise-peer-urls",
          `http://127.0.0.1:${peer}`,
          "--initial-cluster",
          `tls=http://127.0.0.1:${peer}`,
          "--cert-file",
          `${dir}/server.pem`,
          "--key-file",
          `${dir}/server-key.pem`,
          "--client-cert-auth",
          "--trusted-ca-file",
          `${dir}/ca.pem`,
        ], // deno-fmt-ignore
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const file = log;
      copies = [etcd.stdout, etcd.stderr].map(async (s) => {
        for await (const chunk of s) await file.write(chunk).catch(() => 0);
      });
      await waitFor(
        "etcd healthy over TLS",
        async () => {
          try {
            const conn = await Deno.connectTls({
              hostname: "127.0.0.1",
              port: client,
              caCerts: [await Deno.readTextFile(`${dir}/ca.pem`)],
              cert: await Deno.readTextFile(`${dir}/client.pem`),
              key: await Deno.readTextFile(`${dir}/client-key.pem`),
            });
            try {
              await conn.write(
                new TextEncoder().encode(
                  "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                ),
              );
              const buf = new Uint8Array(512);
              const n = await conn.read(buf);
              return n !== null && new TextDecoder().decode(buf.subarray(0, n)).includes('"true"');
            } finally {
              conn.close();
            }
          } catch {
            return false;
          }
        },
        30_000,
        200,
      );

      const tls = (cert: string, key: string) =>
        `tls ${dir}/${cert}.pem ${dir}/${key}.pem ${dir}/ca.pem`;
      const corefiles = {
        etcdhosts: (cert: string, key: string) =>
          `.:{PORT} {\n    etcdhosts . {\n        endpoint ${endpoint}\n        ${
            tls(cert, key)
          }\n    }\n}\n`,
        idetcd: (cert: string, key: string) =>
          `.:{PORT} {\n    idetcd {\n        endpoint ${endpoint}\n        ${
            tls(cert, key)
          }\n        pattern node{{.ID}}.tls.test.\n        address 10.0.0.1\n    }\n}\n`,
      };

      for (const plugin of ["etcdhosts", "idetcd"] as const) {
        await t.step(`${plugin}: a key that does not match its certificate`, async () => {
          const [line] = await failsAtStart(corefiles[plugin]("client", "other-key"), KEY_MISMATCH);
          console.log(`  ${plugin}: ${line}`);
        });
        await t.step(`${plugin}: a client certificate of another CA`, async () => {
          const [line] = await failsAtStart(corefiles[plugin]("other", "other-key"), REJECTED);
          console.log(`  ${plugin}: ${line}`);
        });
      }

      await t.step("the CLI names the same causes", async () => {
        const base = ["hosts", "--endpoint", endpoint, "--ca", `${dir}/ca.pem`];
        const mismatch = await run(START, [
          ...base,
          "--cert",
          `${dir}/client.pem`,
          "--cert-key",
          `${dir}/other-key.pem`,
          "dump",
        ], dir); // deno-fmt-ignore
        assert.equal(mismatch.code, 1, mismatch.stderr);
        assert.match(mismatch.stderr, KEY_MISMATCH);
        const rejected = await run(START, [
          ...base,
          "--cert",
          `${dir}/other.pem`,
          "--cert-key",
          `${dir}/other-key.pem`,
          "dump",
        ], dir); // deno-fmt-ignore
        assert.equal(rejected.code, 1, rejected.stderr);
        assert.match(rejected.stderr, REJECTED);
        assert.equal(rejected.stderr.trim().split("\n").length, 1, rejected.stderr);
      });

      await t.step("the right files work", async () => {
        const p = await startEtcdns({ corefile: corefiles.etcdhosts("client", "client-key") });
        try {
          await p.waitForLine(/key \/etcdhosts does not exist in etcd/);
          assert.doesNotMatch(p.output, /tls|rejected|ERROR/i);
        } finally {
          await p.stop();
        }
      });
    } finally {
      if (etcd) {
        etcd.kill("SIGTERM");
        await etcd.status;
      }
      await Promise.all(copies);
      log?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
