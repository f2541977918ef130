/**
 * `tls CERT KEY [CA] { client_auth ... }`: the certificate a `tls://` server block serves DNS over
 * TLS (RFC 7858) with, as CoreDNS's tls plugin. Client certificates (CA, client_auth) are not
 * supported: Deno's TLS server cannot ask for or verify them, so they are refused at setup rather
 * than silently not enforced.
 */
import type { Directive } from "../../corefile/types.ts";
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, fail, unknownProperty } from "../../corefile/args.ts";
import { errorMessage } from "../../util/errors.ts";

const PLUGIN = "tls";

/** CoreDNS's client_auth values; only `nocert` (the default without a CA) is served. */
const CLIENT_AUTH = ["nocert", "request", "require", "verify_if_given", "require_and_verify"];

/** Reads a PEM file named by the directive, checking that it holds what `what` says. */
function readPem(d: Directive, path: string, label: RegExp, what: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    return fail(d, PLUGIN, `cannot read the ${what} '${path}': ${errorMessage(err)}`);
  }
  if (!label.test(text)) fail(d, PLUGIN, `'${path}' holds no PEM ${what}`);
  return text;
}

/** Sets up tls: reads and checks the certificate and key; adds nothing to the chain. */
export const setupTls: Setup = (d, ctx) => {
  expectArgs(d, PLUGIN, 2, 3);
  for (const p of d.block ?? []) {
    if (p.name !== "client_auth") unknownProperty(p, PLUGIN);
    expectArgs(p, PLUGIN, 1);
    const mode = p.args[0];
    if (!CLIENT_AUTH.includes(mode)) {
      fail(p, PLUGIN, `client_auth '${mode}' is not one of ${CLIENT_AUTH.join(", ")}`);
    }
    if (mode !== "nocert") {
      fail(
        p,
        PLUGIN,
        `client_auth ${mode} is not supported: etcdns cannot ask for or verify client ` +
          "certificates; use 'client_auth nocert' or none, and restrict clients with acl",
      );
    }
  }
  const [certPath, keyPath, caPath] = d.args;
  if (caPath !== undefined) {
    fail(
      d,
      PLUGIN,
      `a CA ('${caPath}') is for verifying client certificates, which etcdns does not support; ` +
        "write 'tls CERT KEY' and restrict clients with acl",
    );
  }
  const cert = readPem(d, certPath, /-----BEGIN CERTIFICATE-----/, "certificate");
  const key = readPem(d, keyPath, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "private key");
  if (ctx.keys.every((k) => k.transport !== "tls")) {
    ctx.log.warn(
      `${d.file}:${d.line} - the block has no tls:// key, so the certificate is not used`,
    );
  }
  ctx.tls?.({ cert, key });
  return null;
};
