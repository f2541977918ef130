/**
 * dnsctl's settings files, as they are, with `etcdns hosts --config FILE`: dnsctl v1's flat
 * file with the certificates embedded as base64 of their PEM, and dnsctl v2's flat file with
 * paths, against a real etcd that demands client certificates (openssl-made CA).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parseYamlSettings } from "../../src/cli/config.ts";
import { START } from "../helpers/etcdns.ts";
import { runCommand } from "../helpers/commands.ts";
import { startTlsEtcd, tlsEtcdMissing } from "../helpers/etcd_tls.ts";
import { waitFor } from "../helpers/wait.ts";

const missing = tlsEtcdMissing();
if (missing) console.log(`skipped: the dnsctl TLS config test ${missing}`);

const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  runCommand(cmd, args, { cwd, env });

const HOSTS = "10.0.0.1 web.example.org\n10.0.0.2 db.example.org\n";

Deno.test("dnsctl config: v1 (flat, key = client key, base64 certs) and v2 (flat, key = hosts key) parse", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const b64 = Buffer.from(pem).toString("base64");
  const v1 = parseYamlSettings(
    `endpoints: [https://127.0.0.1:2379]\nhosts_key: /v1/hosts\nca: ${b64}\ncert: ${b64}\n` +
      `key: ${b64}\nuser_name: root\npassword: pw\ndial_timeout: 3s\nreq_timeout: 2000000000\n`,
    "v1.yaml",
  );
  assert.equal(v1.hostsKey, "/v1/hosts");
  assert.deepEqual(v1.etcd.tls, { cert: pem, key: pem, ca: pem });
  assert.equal(v1.etcd.username, "root");
  assert.equal(v1.etcd.timeoutMs, 2000);

  const v2 = parseYamlSettings(
    `endpoints:\n  - https://127.0.0.1:2379\nkey: /v2/hosts\nca: /etc/ca.pem\ncert: /etc/c.pem\n` +
      `cert_key: /etc/k.pem\nusername: u\ndial_timeout: 4s\n`,
    "v2.yaml",
  );
  assert.equal(v2.hostsKey, "/v2/hosts");
  assert.deepEqual(v2.etcd.tls, { cert: "/etc/c.pem", key: "/etc/k.pem", ca: "/etc/ca.pem" });
  assert.equal(v2.etcd.timeoutMs, 4000);

  // No cert: `key` is the hosts key (v2 without TLS).
  const plain = parseYamlSettings("endpoints: [http://127.0.0.1:2379]\nkey: /k\n", "p.yaml");
  assert.equal(plain.hostsKey, "/k");
  assert.equal(plain.etcd.tls, undefined);

  assert.throws(
    () => parseYamlSettings("endpoints: [http://a:1]\nbogus: 1\n", "b.yaml"),
    /b\.yaml: unknown setting 'bogus'/,
  );
  assert.throws(
    () => parseYamlSettings("endpoints: [http://a:1]\ncert: /c.pem\n", "c.yaml"),
    /c\.yaml: cert_key: a client certificate and its key go together|c\.yaml: cert:/,
  );
});

Deno.test({
  name: "dnsctl config: v1 with base64-embedded certificates and v2 dump a TLS etcd",
  ignore: missing !== null,
  fn: async () => {
    const etcd = await startTlsEtcd();
    const { dir, endpoint } = etcd;
    try {
      const flags = [
        "--endpoint",
        endpoint,
        "--cert",
        `${dir}/client.pem`,
        "--cert-key",
        `${dir}/client-key.pem`,
        "--ca",
        `${dir}/ca.pem`,
      ];
      await Deno.writeTextFile(`${dir}/hosts`, HOSTS);
      // etcd is up when the CLI can write through it (with flags, not the files under test).
      await waitFor("upload over TLS", async () => {
        for (const key of ["/v1/hosts", "/v2/hosts"]) {
          const r = await run(
            START,
            ["hosts", ...flags, "--key", key, "upload", `${dir}/hosts`],
            dir,
            { HOME: dir },
          );
          if (r.code !== 0) return false;
        }
        return true;
      }, 30_000);

      const b64 = async (f: string) =>
        Buffer.from(await Deno.readFile(`${dir}/${f}`)).toString("base64");
      await Deno.writeTextFile(
        `${dir}/v1.yaml`,
        `endpoints:\n- ${endpoint}\nhosts_key: /v1/hosts\nca: ${await b64("ca.pem")}\n` +
          `cert: ${await b64("client.pem")}\nkey: ${await b64("client-key.pem")}\n` +
          `dial_timeout: 5s\nreq_timeout: 2s\n`,
      );
      await Deno.writeTextFile(
        `${dir}/v2.yaml`,
        `endpoints:\n  - ${endpoint}\nkey: /v2/hosts\ndial_timeout: 5s\nreq_timeout: 5s\n` +
          `ca: ${dir}/ca.pem\ncert: ${dir}/client.pem\ncert_key: ${dir}/client-key.pem\n`,
      );
      for (const file of ["v1.yaml", "v2.yaml"]) {
        const r = await run(START, ["hosts", "--config", `${dir}/${file}`, "dump"], dir, {
          HOME: dir,
        });
        assert.equal(r.code, 0, `${file}: ${r.stderr}`);
        assert.equal(r.stdout, HOSTS, file);
      }
    } finally {
      await etcd.stop();
    }
  },
});
