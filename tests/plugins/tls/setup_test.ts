import assert from "node:assert/strict";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { PLUGINS } from "../../../src/plugins/registry.ts";
import { buildConfig } from "../../../src/server/config.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { makeServerCert, type TestCerts } from "../../helpers/tls_certs.ts";

// buildConfig sets up loaded plugins only; these tests build many Corefiles.
await PLUGINS.loadAll();

/** Builds a config from a Corefile (opens nothing); returns each listener's id-like summary. */
function build(corefile: string): string[] {
  const { blocks } = parseCorefile(corefile, { directives: PLUGINS.names });
  const { routers } = buildConfig(blocks, {
    plugins: PLUGINS,
    corefilePath: "Corefile",
    resources: new ResourcePool().begin(),
  });
  return [...routers.keys()].map((l) => `${l.tls ? "tls" : "dns"} ${l.hostname}:${l.port}`);
}

let certs: TestCerts;

Deno.test("tls: setup (certificates)", async (t) => {
  certs = await makeServerCert();
  try {
    await t.step("a tls:// block with tls CERT KEY listens for DNS over TLS", () => {
      assert.deepEqual(
        build(`tls://.:8853 {\n bind 127.0.0.1\n tls ${certs.cert} ${certs.key}\n whoami\n}\n`),
        ["tls 127.0.0.1:8853"],
      );
      // Default port 853; one block may hold dns:// and tls:// keys.
      assert.deepEqual(
        build(
          `tls://. dns://.:1053 {\n tls ${certs.cert} ${certs.key} {\n client_auth nocert\n }\n whoami\n}\n`,
        ),
        ["tls :::853", "dns :::1053"],
      );
      // In a plain block it is accepted (as CoreDNS) and changes nothing.
      assert.deepEqual(build(`.:1053 {\n tls ${certs.cert} ${certs.key}\n}\n`), ["dns :::1053"]);
    });

    await t.step("errors name FILE:LINE and what to write", () => {
      const c = certs.cert;
      const k = certs.key;
      const cases: Array<[string, RegExp]> = [
        [
          "tls://.:8853 {\n whoami\n}\n",
          /^Corefile:1 - .*'tls:\/\/.:8853' serves DNS over TLS .*add 'tls CERT KEY'/,
        ],
        [
          `tls://.:8853 {\n tls ${c}\n}\n`,
          /^Corefile:2 - plugin\/tls: 'tls' takes 2 to 3 arguments, got 1/,
        ],
        [
          `tls://.:8853 {\n tls ${c} ${k} ${certs.ca}\n}\n`,
          /^Corefile:2 - plugin\/tls: a CA .*does not support/,
        ],
        [
          `tls://.:8853 {\n tls ${c} ${k} {\n  client_auth require_and_verify\n }\n}\n`,
          /^Corefile:3 - plugin\/tls: client_auth require_and_verify is not supported/,
        ],
        [
          `tls://.:8853 {\n tls ${c} ${k} {\n  client_auth maybe\n }\n}\n`,
          /^Corefile:3 - .*'maybe' is not one of nocert, request/,
        ],
        [
          `tls://.:8853 {\n tls ${c} ${k} {\n  ciphers x\n }\n}\n`,
          /^Corefile:3 - plugin\/tls: unknown property 'ciphers'/,
        ],
        [
          `tls://.:8853 {\n tls /nonexistent/cert.pem ${k}\n}\n`,
          /^Corefile:2 - plugin\/tls: cannot read the certificate '\/nonexistent\/cert.pem'/,
        ],
        [
          `tls://.:8853 {\n tls ${k} ${k}\n}\n`,
          /^Corefile:2 - plugin\/tls: '.*key.pem' holds no PEM certificate/,
        ],
        [
          `tls://.:8853 {\n tls ${c} ${c}\n}\n`,
          /^Corefile:2 - plugin\/tls: '.*cert.pem' holds no PEM private key/,
        ],
        [
          "https://.:443 {\n whoami\n}\n",
          /^Corefile:1 - .*'https:\/\/' \(DNS over HTTPS\) is not supported; .*tls:\/\/ for DNS over TLS/,
        ],
      ];
      for (const [corefile, want] of cases) {
        assert.throws(() => build(corefile), (err: Error) => {
          assert.match(err.message, want);
          return true;
        });
      }
    });
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});
