/**
 * TLS to etcd endpoints written as IP addresses (`https://10.0.0.10:2379`).
 *
 * grpc-js always passes the endpoint's host as the TLS `servername` (SNI). RFC 6066 forbids an
 * IP address there; Node lets it pass with a warning, Deno's node:tls refuses the connection.
 * Dropping an IP servername keeps the handshake standard, and the server certificate is still
 * checked against the IP (its IP SAN) through `host`.
 */
import tls from "node:tls";
import { isIP } from "node:net";

let installed = false;

/** Makes `tls.connect` drop an IP-address servername. Idempotent. */
export function allowIpEndpointsOverTls(): void {
  if (installed) return;
  installed = true;
  const original = tls.connect;
  const patched = function (this: unknown, ...args: unknown[]) {
    for (const arg of args) {
      if (arg !== null && typeof arg === "object" && "servername" in arg) {
        const options = arg as tls.ConnectionOptions;
        if (typeof options.servername === "string" && isIP(options.servername) !== 0) {
          options.host ??= options.servername;
          delete options.servername;
        }
      }
    }
    return (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  };
  (tls as { connect: unknown }).connect = patched;
}
