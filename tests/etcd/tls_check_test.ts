/**
 * etcd TLS: the error texts gRPC, node:tls and Deno's TLS give for TLS mistakes are named by
 * their cause, and the start-up file checks (PEM parses, key matches certificate, CA parses)
 * refuse files that cannot work. Certificates come from openssl, as in docs/etcd-tls.md.
 */
import assert from "node:assert/strict";
import { explainEtcdError } from "../../src/etcd/client.ts";
import type { EtcdOptions } from "../../src/etcd/options.ts";
import {
  classifyTlsError,
  CLIENT_CERT_REJECTED,
  EtcdTlsError,
  loadEtcdTls,
  probeEtcdTls,
} from "../../src/etcd/tls_check.ts";

const withCert: EtcdOptions = {
  endpoints: ["https://10.0.0.1:2379"],
  tls: { cert: "/c/client.pem", key: "/c/client-key.pem", ca: "/c/ca.pem" },
  timeoutMs: 1000,
};
const caOnly: EtcdOptions = { ...withCert, tls: { ca: "/c/ca.pem" } };
const plain: EtcdOptions = { endpoints: ["http://10.0.0.1:2379"], timeoutMs: 1000 };

const GRPC = "14 UNAVAILABLE: No connection established. Last error: ";

Deno.test("classifyTlsError: a key that does not match its certificate", () => {
  const want =
    /^client key does not match its certificate \(\/c\/client\.pem, \/c\/client-key\.pem\)/;
  for (
    const text of [
      "Error keys may not be consistent: KeyMismatch", // Deno.connectTls
      "error:05800074:x509 certificate routines::key values mismatch", // Node/OpenSSL
      `${GRPC}Error: unsupported protocol. Resolution note: `, // grpc-js on Deno
    ]
  ) {
    assert.match(classifyTlsError(text, withCert) ?? "", want, text);
  }
  // Without a client certificate, "unsupported protocol" is no key problem.
  assert.equal(classifyTlsError(`${GRPC}Error: unsupported protocol`, caOnly), null);
});

Deno.test("classifyTlsError: etcd rejects the client certificate", () => {
  for (
    const [text, opts] of [
      ["received fatal alert: BadCertificate", withCert],
      ["received fatal alert: CertificateRequired", caOnly],
      ["received fatal alert: UnknownCA", withCert],
      ["SSL alert number 42: sslv3 alert bad certificate", withCert],
      ["tlsv13 alert certificate required", caOnly],
      [`${GRPC}write EPIPE (2026-11-28T04:51:46.925Z). Resolution note: `, withCert],
      [`${GRPC}write EPIPE (2026-11-28T04:51:46.925Z).`, caOnly],
    ] as const
  ) {
    const got = classifyTlsError(text, opts);
    assert.ok(got?.startsWith(CLIENT_CERT_REJECTED), `${text}: ${got}`);
  }
  assert.match(
    CLIENT_CERT_REJECTED,
    /^etcd rejected the client certificate \(it is not signed by a CA etcd trusts, or etcd requires one and none was given\)$/,
  );
  // EPIPE on a plain-text connection is no TLS matter.
  assert.equal(classifyTlsError(`${GRPC}write EPIPE`, plain), null);
});

Deno.test("classifyTlsError: handshake failures name the server side", () => {
  const cases: [string, RegExp][] = [
    [
      "invalid peer certificate: UnknownIssuer",
      /^TLS handshake with etcd failed: invalid peer certificate: UnknownIssuer; etcd's server certificate is not signed by the CA in \/c\/ca\.pem$/,
    ],
    [
      `${GRPC}Error: unable to verify the first certificate. Resolution note: `,
      /^TLS handshake with etcd failed: unable to verify the first certificate; etcd's server/,
    ],
    [
      "invalid peer certificate: NotValidForName",
      /^TLS handshake with etcd failed: .*NotValidForName; etcd's server certificate does not name the endpoint's host/,
    ],
    [
      "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list",
      /does not name the endpoint's host/,
    ],
    ["invalid peer certificate: Expired", /expired or not yet valid/],
    ["received corrupt message of type InvalidContentType", /does not speak TLS/],
    ["wrong version number", /does not speak TLS/],
  ];
  for (const [text, want] of cases) assert.match(classifyTlsError(text, withCert) ?? "", want);
  assert.match(
    classifyTlsError("invalid peer certificate: UnknownIssuer", { ...withCert, tls: {} }) ?? "",
    /not signed by a CA the system trusts; give the CA file/,
  );
});

Deno.test("classifyTlsError: other failures are not TLS", () => {
  for (
    const text of [
      `${GRPC}connect ECONNREFUSED 127.0.0.1:2379`,
      "4 DEADLINE_EXCEEDED: Deadline exceeded",
      "etcdserver: user name is empty",
    ]
  ) {
    assert.equal(classifyTlsError(text, withCert), null, text);
  }
  assert.equal(classifyTlsError("received fatal alert: BadCertificate", plain), null);
});

Deno.test("explainEtcdError: a TLS cause comes first, then the raw text", () => {
  const err = new Error(`${GRPC}write EPIPE (2026-11-28T04:51:46.925Z). Resolution note: `);
  const text = explainEtcdError(err, withCert);
  assert.ok(
    text.startsWith(`etcd at https://10.0.0.1:2379: ${CLIENT_CERT_REJECTED}`),
    text,
  );
  assert.match(text, /write EPIPE/);
  assert.doesNotMatch(text, /unreachable/);
  const refused = explainEtcdError(new Error(`${GRPC}connect ECONNREFUSED`), withCert);
  assert.match(refused, /is unreachable/);
});

function haveOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

Deno.test({
  name: "loadEtcdTls: good files pass; a foreign key, a non-PEM CA and a missing file are refused",
  ignore: !haveOpenssl(),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-tlscheck-" });
    try {
      for (const name of ["a", "b"]) {
        await openssl(dir, [
          "req",
          "-x509",
          "-newkey",
          name === "a" ? "rsa:2048" : "ec",
          ...(name === "b" ? ["-pkeyopt", "ec_paramgen_curve:P-256"] : []),
          "-nodes",
          "-days",
          "2",
          "-subj",
          `/CN=${name}`,
          "-keyout",
          `${name}-key.pem`,
          "-out",
          `${name}.pem`,
        ]); // deno-fmt-ignore
      }
      const p = (f: string) => `${dir}/${f}`;
      const opts = (tls: EtcdOptions["tls"]): EtcdOptions => ({ ...plain, tls });

      const good = await loadEtcdTls(
        opts({ cert: p("a.pem"), key: p("a-key.pem"), ca: p("b.pem") }),
      );
      assert.ok(good.cert && good.key && good.ca);
      await loadEtcdTls(opts({ cert: p("b.pem"), key: p("b-key.pem") })); // EC keys too

      await assert.rejects(
        loadEtcdTls(opts({ cert: p("a.pem"), key: p("b-key.pem"), ca: p("a.pem") })),
        (e: Error) =>
          e instanceof EtcdTlsError &&
          e.message ===
            `etcd tls: client key does not match its certificate (${p("a.pem")}, ${
              p("b-key.pem")
            }); give the key that was made with this certificate`,
      );
      await assert.rejects(
        loadEtcdTls(opts({ ca: p("a-key.pem") })),
        /the CA file '.*a-key\.pem' holds no PEM certificate/,
      );
      await assert.rejects(
        loadEtcdTls(opts({ cert: p("a-key.pem"), key: p("a-key.pem") })),
        /the certificate file '.*a-key\.pem' holds no PEM certificate/,
      );
      await assert.rejects(
        loadEtcdTls(opts({ cert: p("a.pem"), key: p("a.pem") })),
        /the key file '.*a\.pem' is not a usable private key/,
      );
      await assert.rejects(
        loadEtcdTls(opts({ cert: p("a.pem"), key: p("missing.pem") })),
        (e: Error) => e instanceof EtcdTlsError && /cannot read the key file/.test(e.message),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("probeEtcdTls: an endpoint that does not answer is no error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await probeEtcdTls([`https://127.0.0.1:${port}`], {}, { ...caOnly, timeoutMs: 500 });
  await probeEtcdTls(["http://127.0.0.1:1"], {}, plain);
});
