/**
 * Start-up checks of etcd client TLS, and plain words for TLS failures.
 *
 * A client reports most TLS mistakes as "unreachable": a client certificate etcd rejects shows
 * as `connection closed` on the first request. So before a client is built, `loadEtcdTls`
 * reads the files and checks that
 * they can work (PEM parses, the key matches the certificate, the CA parses), and
 * `probeEtcdTls` shakes hands with each https endpoint once, where a rejected client
 * certificate shows as a TLS alert. Both throw `EtcdTlsError`, which callers treat as fatal at
 * start. `classifyTlsError` names the cause in Deno's, OpenSSL's and etcd's error texts.
 */
import { Buffer } from "node:buffer";
import type { X509Certificate } from "node:crypto";
import { EtcdError } from "./gateway.ts";
import { type EtcdOptions, isInlinePem, tlsLabel } from "./options.ts";

/** A TLS setting that cannot work: a bad file, or etcd refusing the handshake. Fatal at start. */
export class EtcdTlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EtcdTlsError";
  }
}

/** The TLS files, read and checked. */
export interface EtcdTlsFiles {
  ca?: Buffer;
  key?: Buffer;
  cert?: Buffer;
}

/**
 * What it means when etcd's JSON gateway answers that it cannot reach etcd's own gRPC server
 * over TLS: the gateway presents etcd's server certificate as its client certificate, which
 * etcd with `--client-cert-auth` refuses unless it also allows client authentication.
 */
export const GATEWAY_CANNOT_REACH_ETCD = "etcd's JSON gateway, which etcdns talks to, cannot " +
  "reach etcd's own gRPC server over TLS: with --client-cert-auth, etcd's server certificate " +
  "(--cert-file) must also allow client authentication (extendedKeyUsage serverAuth,clientAuth), " +
  "or, on etcd 3.5 and later, etcd needs --client-cert-file and --client-key-file";

/**
 * Whether `err` is etcd's gateway answering (not our connection failing) that its own link to
 * etcd's gRPC server broke, over TLS, as status 14. Which words gRPC-go uses depends on when it
 * notices etcd dropping the link (with TLS 1.3 the client side finishes its handshake before etcd
 * refuses the certificate): `connection closed`, `use of closed network connection`, `write tcp
 * ...: broken pipe`, `error reading server preface`, `transport is closing` or `tls: bad
 * certificate`. See GATEWAY_CANNOT_REACH_ETCD.
 */
export function isGatewayTlsFailure(err: unknown, opts: EtcdOptions): boolean {
  return err instanceof EtcdError && !err.unreachable && err.code === 14 &&
    (opts.tls !== undefined || opts.endpoints.some((e) => e.startsWith("https://"))) &&
    GATEWAY_LINK_BROKEN.test(err.message);
}

const GATEWAY_LINK_BROKEN =
  /connection closed|closed network connection|broken pipe|bad certificate|connection reset|handshake|server preface|transport is closing/i;

/** What etcd's rejection of the client certificate is called in messages. */
export const CLIENT_CERT_REJECTED = "etcd rejected the client certificate (it is not signed by a " +
  "CA etcd trusts, or etcd requires one and none was given)";

async function readFile(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  if (isInlinePem(path)) return Buffer.from(path, "utf8");
  try {
    return Buffer.from(await Deno.readFile(path));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new EtcdTlsError(
      `etcd tls: cannot read the ${what} file '${path}' (${reason}); check the path and its permissions`,
    );
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** node:crypto, imported by `loadEtcdTls`: only a server with etcd TLS settings loads it. */
type Crypto = typeof import("node:crypto");

function parseCerts(
  crypto: Crypto,
  pem: Buffer,
  source: string,
  what: string,
): X509Certificate[] {
  const path = tlsLabel(source);
  const blocks = pem.toString("latin1").match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    throw new EtcdTlsError(
      `etcd tls: the ${what} file '${path}' holds no PEM certificate ` +
        `('-----BEGIN CERTIFICATE-----'); give a PEM file`,
    );
  }
  return blocks.map((b) => {
    try {
      return new crypto.X509Certificate(b);
    } catch (err) {
      throw new EtcdTlsError(
        `etcd tls: the ${what} file '${path}' holds a certificate that does not parse (${
          err instanceof Error ? err.message : err
        })`,
      );
    }
  });
}

/**
 * Reads the TLS files of `opts` and checks that they can work: every file readable, the
 * certificate and the CA parse as PEM certificates, the key parses as an unencrypted PEM
 * private key, and the key belongs to the certificate. Throws EtcdTlsError naming the file.
 */
export async function loadEtcdTls(opts: EtcdOptions): Promise<EtcdTlsFiles> {
  const tls = opts.tls ?? {};
  const [ca, key, cert] = await Promise.all([
    readFile(tls.ca, "CA"),
    readFile(tls.key, "key"),
    readFile(tls.cert, "certificate"),
  ]);
  const crypto = await import("node:crypto");
  if (ca) parseCerts(crypto, ca, tls.ca!, "CA");
  if (cert && key) {
    const [leaf] = parseCerts(crypto, cert, tls.cert!, "certificate");
    let privateKey;
    try {
      privateKey = crypto.createPrivateKey(key);
    } catch (err) {
      throw new EtcdTlsError(
        `etcd tls: the key file '${tlsLabel(tls.key)}' is not a usable private key (${
          err instanceof Error ? err.message : err
        }); give an unencrypted PEM key`,
      );
    }
    let matches = false;
    try {
      matches = leaf.checkPrivateKey(privateKey);
    } catch {
      matches = false;
    }
    if (!matches) {
      throw new EtcdTlsError(
        `etcd tls: client key does not match its certificate (${tlsLabel(tls.cert)}, ${
          tlsLabel(tls.key)
        }); ` +
          `give the key that was made with this certificate`,
      );
    }
  }
  return { ca, key, cert };
}

/**
 * Names the TLS cause in an error text from Deno's TLS, OpenSSL or etcd, or returns null when
 * the text is not about TLS. `opts` tells which files were configured.
 */
export function classifyTlsError(text: string, opts: EtcdOptions): string | null {
  const tls = opts.tls;
  const secure = tls !== undefined || opts.endpoints.some((e) => e.startsWith("https://"));
  if (!secure) return null;
  if (/KeyMismatch|keys may not be consistent|key values mismatch/i.test(text)) {
    return `client key does not match its certificate (${tlsLabel(tls?.cert)}, ${
      tlsLabel(tls?.key)
    })`;
  }
  if (
    /(alert|Alert)[^\n]*?(BadCertificate|bad certificate|CertificateRequired|certificate required|UnknownCA|unknown ca|CertificateUnknown|certificate unknown|UnsupportedCertificate|CertificateRevoked|AccessDenied|access denied)/
      .test(text)
  ) {
    return CLIENT_CERT_REJECTED;
  }
  const failed = (hint: string) => `TLS handshake with etcd failed: ${cause(text)}; ${hint}`;
  if (
    /UnknownIssuer|unable to verify|self[- ]signed|unable to get (local )?issuer|certificate signature failure/i
      .test(text)
  ) {
    return failed(
      `etcd's server certificate is not signed by ${
        tls?.ca ? `the CA in ${tlsLabel(tls.ca)}` : "a CA the system trusts; give the CA file"
      }`,
    );
  }
  if (/NotValidForName|Hostname\/IP does not match|altnames|ERR_TLS_CERT_ALTNAME/i.test(text)) {
    return failed(
      "etcd's server certificate does not name the endpoint's host; use a host name or IP " +
        "listed in its subjectAltName",
    );
  }
  if (/Expired|certificate has expired|not yet valid/i.test(text)) {
    return failed("a certificate is expired or not yet valid; check the dates and the clock");
  }
  if (
    /wrong version number|InvalidContentType|CorruptMessage|packet length too long|http: server gave HTTP response/i
      .test(text)
  ) {
    return failed("the endpoint does not speak TLS; use http:// or enable TLS on etcd");
  }
  if (/handshake|InvalidCertificate|invalid peer certificate|received fatal alert/i.test(text)) {
    return failed("check the tls files and etcd's TLS settings");
  }
  return null;
}

/** The TLS part of an error text: without the client's "unavailable:" and a final stop. */
function cause(text: string): string {
  return oneLine(
    text.replace(/^unavailable:\s*/, "").replace(/^client error \(Connect\):\s*/, "")
      .replace(/\.$/, ""),
  );
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** What one probe found. */
type ProbeResult = { ok: true } | { ok: false; tls: string | null; text: string };

async function probeOne(
  endpoint: string,
  files: EtcdTlsFiles,
  opts: EtcdOptions,
): Promise<ProbeResult> {
  const url = new URL(endpoint);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 443);
  let conn: Deno.TlsConn | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        conn?.close();
      } catch { /* closed */ }
      reject(new Error("timed out"));
    }, opts.timeoutMs);
  });
  const attempt = async (): Promise<ProbeResult> => {
    conn = await Deno.connectTls({
      hostname,
      port,
      caCerts: files.ca ? [files.ca.toString("utf8")] : undefined,
      cert: files.cert?.toString("utf8"),
      key: files.key?.toString("utf8"),
    });
    await conn.handshake();
    // TLS 1.3 finishes the client's handshake before the server checks the client
    // certificate; a rejection arrives as an alert on the first read.
    await conn.write(
      new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: etcd\r\nConnection: close\r\n\r\n"),
    );
    await conn.read(new Uint8Array(64));
    return { ok: true };
  };
  try {
    return await Promise.race([attempt(), timeout]);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    return { ok: false, tls: classifyTlsError(text, opts), text };
  } finally {
    clearTimeout(timer);
    try {
      (conn as Deno.TlsConn | null)?.close();
    } catch { /* closed */ }
  }
}

/**
 * Shakes hands with every https endpoint in `hosts` (in parallel, each within the etcd
 * timeout) and throws EtcdTlsError when none accepted us and at least one failed for a TLS
 * reason: a rejected client certificate, an untrusted server certificate, a wrong name.
 * Endpoints that do not answer are not an error here: etcd may start later.
 */
export async function probeEtcdTls(
  hosts: readonly string[],
  files: EtcdTlsFiles,
  opts: EtcdOptions,
): Promise<void> {
  const secure = hosts.filter((h) => h.startsWith("https://"));
  if (secure.length === 0) return;
  const results = await Promise.all(secure.map((h) => probeOne(h, files, opts)));
  if (results.some((r) => r.ok)) return;
  const i = results.findIndex((r) => !r.ok && r.tls !== null);
  if (i < 0) return;
  const r = results[i] as { tls: string; text: string };
  const raw = oneLine(r.text);
  throw new EtcdTlsError(`etcd at ${secure[i]}: ${r.tls}${r.tls.includes(raw) ? "" : ` (${raw})`}`);
}
