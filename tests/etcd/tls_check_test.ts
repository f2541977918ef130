/**
 * etcd TLS: the error texts Deno's TLS, OpenSSL and etcd give for TLS mistakes are named by
 * their cause, and the start-up file checks (PEM parses, key matches certificate, CA parses)
 * refuse files that cannot work. Certificates come from openssl, as in docs/etcd-tls.md.
 */
import assert from "node:assert/strict";
import { EtcdError, explainEtcdError } from "../../src/etcd/client.ts";
import type { EtcdOptions } from "../../src/etcd/options.ts";
import {
  classifyTlsError,
  CLIENT_CERT_REJECTED,
  EtcdTlsError,
  GATEWAY_CANNOT_REACH_ETCD,
  isGatewayTlsFailure,
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

/** How EtcdClient words a failed connection (gateway.ts `unreachable`). */
const FETCH = "unavailable: client error (Connect): ";

Deno.test("classifyTlsError: a key that does not match its certificate", () => {
  const want =
    /^client key does not match its certificate \(\/c\/client\.pem, \/c\/client-key\.pem\)/;
  for (
    const text of [
      "Error keys may not be consistent: KeyMismatch", // Deno.connectTls
      "error:05800074:x509 certificate routines::key values mismatch", // Node/OpenSSL
    ]
  ) {
    assert.match(classifyTlsError(text, withCert) ?? "", want, text);
  }
});

Deno.test("classifyTlsError: etcd rejects the client certificate", () => {
  for (
    const [text, opts] of [
      ["received fatal alert: BadCertificate", withCert],
      ["received fatal alert: CertificateRequired", caOnly],
      ["received fatal alert: UnknownCA", withCert],
      ["SSL alert number 42: sslv3 alert bad certificate", withCert],
      ["tlsv13 alert certificate required", caOnly],
    ] as const
  ) {
    const got = classifyTlsError(text, opts);
    assert.ok(got?.startsWith(CLIENT_CERT_REJECTED), `${text}: ${got}`);
  }
  assert.match(
    CLIENT_CERT_REJECTED,
    /^etcd rejected the client certificate \(it is not signed by a CA etcd trusts, or etcd requires one and none was given\)$/,
  );
});

Deno.test("isGatewayTlsFailure: the gateway's own link to etcd broke, not ours", () => {
  const endpoint = "https://10.0.0.1:2379";
  for (
    const text of [
      "connection closed",
      "write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe",
      // etcd 3.4, about one start in ten (the gateway noticed the refusal while it read)
      "use of closed network connection",
      'connection error: desc = "error reading server preface: EOF"',
      "transport is closing",
    ]
  ) {
    const answered = new EtcdError(text, 14, endpoint);
    assert.ok(isGatewayTlsFailure(answered, withCert), text);
    assert.match(explainEtcdError(answered, withCert), /JSON gateway, which etcdns talks to/);
    assert.equal(isGatewayTlsFailure(answered, plain), false, "plain HTTP: not about TLS");
  }
  // Our own connection closing (etcd refusing our certificate) is something else.
  const ours = new EtcdError("unavailable: connection closed", 14, endpoint, true);
  assert.equal(isGatewayTlsFailure(ours, withCert), false);
  assert.equal(
    isGatewayTlsFailure(new EtcdError("etcdserver: no leader", 14, endpoint), withCert),
    false,
  );
  assert.match(GATEWAY_CANNOT_REACH_ETCD, /extendedKeyUsage serverAuth,clientAuth/);
});

Deno.test("classifyTlsError: handshake failures name the server side", () => {
  const cases: [string, RegExp][] = [
    [
      `${FETCH}invalid peer certificate: UnknownIssuer`,
      /^TLS handshake with etcd failed: invalid peer certificate: UnknownIssuer; etcd's server certificate is not signed by the CA in \/c\/ca\.pem$/,
    ],
    [
      "unable to verify the first certificate",
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
      "unavailable: tcp connect error: Connection refused (os error 111)",
      "deadline exceeded: no answer within 5000 ms",
      "etcdserver: user name is empty",
    ]
  ) {
    assert.equal(classifyTlsError(text, withCert), null, text);
  }
  assert.equal(classifyTlsError("received fatal alert: BadCertificate", plain), null);
});

Deno.test("explainEtcdError: a TLS cause comes first, then the raw text", () => {
  const err = new Error(`${FETCH}received fatal alert: BadCertificate`);
  const text = explainEtcdError(err, withCert);
  assert.ok(
    text.startsWith(`etcd at https://10.0.0.1:2379: ${CLIENT_CERT_REJECTED}`),
    text,
  );
  assert.match(text, /BadCertificate/);
  assert.doesNotMatch(text, /unreachable/);
  const refused = explainEtcdError(
    new Error("unavailable: tcp connect error: Connection refused (os error 111)"),
    withCert,
  );
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
