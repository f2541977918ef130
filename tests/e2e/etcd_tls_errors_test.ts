/**
 * TLS mistakes against a real etcd that demands client certificates (openssl-made CA, server
 * and client certificates, a second CA, a key of another certificate): etcdns exits at start
 * with one line naming the cause, for etcdhosts and idetcd, and the CLI says the same; the
 * right files still work.
 */
import assert from "node:assert/strict";
import { START, startEtcdns } from "../helpers/etcdns.ts";
import { runCommand } from "../helpers/commands.ts";
import { startTlsEtcd, tlsEtcdMissing } from "../helpers/etcd_tls.ts";
import { waitFor } from "../helpers/wait.ts";

const missing = tlsEtcdMissing();
if (missing) console.log(`skipped: the etcd TLS error tests ${missing}`);

const run = (cmd: string, args: string[], cwd: string) => runCommand(cmd, args, { cwd });

const KEY_MISMATCH =
  /client key does not match its certificate \(\S+\/client\.pem, \S+\/other-key\.pem\)/;
const REJECTED =
  /etcd rejected the client certificate \(it is not signed by a CA etcd trusts, or etcd requires one and none was given\)/;

/** Starts etcdns, expects it to exit non-zero at start; returns its output lines. */
async function failsAtStart(corefile: string, cause: RegExp): Promise<string[]> {
  const p = await startEtcdns({ corefile, waitReady: false });
  try {
    const status = await waitFor("etcdns to exit", () => p.exited, 30_000).catch((err) => {
      throw new Error(`${err instanceof Error ? err.message : err}; etcdns printed:\n${p.output}`);
    });
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
  ignore: missing !== null,
  fn: async (t) => {
    const etcd = await startTlsEtcd();
    const { dir, endpoint } = etcd;
    try {
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
      await etcd.stop();
    }
  },
});

Deno.test({
  name: "etcd TLS errors: a server certificate without client auth (the gateway cannot reach etcd)",
  ignore: missing !== null,
  fn: async () => {
    const etcd = await startTlsEtcd({ serverCert: "server-only" });
    const { dir, endpoint } = etcd;
    const GATEWAY =
      /etcd's JSON gateway, which etcdns talks to, cannot reach etcd's own gRPC server/;
    try {
      const tls = `tls ${dir}/client.pem ${dir}/client-key.pem ${dir}/ca.pem`;
      const [line] = await failsAtStart(
        `.:{PORT} {\n    etcdhosts . {\n        endpoint ${endpoint}\n        ${tls}\n    }\n}\n`,
        GATEWAY,
      );
      assert.match(line, /extendedKeyUsage serverAuth,clientAuth/);
      const cli = await run(START, [
        "hosts",
        "--endpoint",
        endpoint,
        "--ca",
        `${dir}/ca.pem`,
        "--cert",
        `${dir}/client.pem`,
        "--cert-key",
        `${dir}/client-key.pem`,
        "dump",
      ], dir); // deno-fmt-ignore
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stderr, GATEWAY);
    } finally {
      await etcd.stop();
    }
  },
});
