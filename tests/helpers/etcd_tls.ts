/**
 * A real etcd that demands client certificates, with an openssl-made CA: for the tests of TLS
 * settings (dnsctl configs, TLS mistakes). Files in `dir`: ca.pem (trusted by etcd), ca2.pem (not),
 * server.pem, client.pem + client-key.pem (signed by ca), other.pem + other-key.pem (signed by ca2),
 * and server-only.pem: a server certificate without client auth, which etcd's JSON gateway cannot
 * use to reach etcd itself when etcd demands client certificates.
 */
import { ETCD_BIN, memberFlags } from "./etcd.ts";
import { runCommand, which } from "./commands.ts";
import { distinctPorts } from "./ports.ts";
import { spawnCollecting } from "./spawn.ts";
import { waitFor } from "./wait.ts";

const CERTS = `
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=etcd test CA" -keyout ca-key.pem -out ca.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout ca2-key.pem -out ca2.pem
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' >server.ext
openssl req -newkey rsa:2048 -nodes -subj "/CN=etcd" -keyout server-key.pem -out server.csr
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server.pem
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' >server-only.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server-only.ext -out server-only.pem
printf 'extendedKeyUsage=clientAuth\\n' >client.ext
openssl req -newkey rsa:2048 -nodes -subj "/CN=etcdns" -keyout client-key.pem -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out client.pem
openssl req -newkey rsa:2048 -nodes -subj "/CN=etcdns" -keyout other-key.pem -out other.csr
openssl x509 -req -in other.csr -CA ca2.pem -CAkey ca2-key.pem -CAcreateserial -days 2 -extfile client.ext -out other.pem
`;

/** Why a TLS etcd cannot be started here, or null when it can. */
export function tlsEtcdMissing(): string | null {
  const missing = ["openssl", ETCD_BIN].filter((c) => !which(c));
  return missing.length === 0 ? null : `needs ${missing.join(" and ")}`;
}

/** A running TLS etcd and its files. */
export interface TlsEtcd {
  /** The temporary directory with the certificates (removed by `stop`). */
  readonly dir: string;
  /** `https://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** etcd's output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Makes the certificates, starts etcd with client-cert-auth and waits until it is healthy.
 * `serverCert: "server-only"` gives etcd the certificate without client auth.
 */
export async function startTlsEtcd(
  opts: { serverCert?: "server" | "server-only" } = {},
): Promise<TlsEtcd> {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-tls-etcd-" });
  const [client, peer] = distinctPorts(2);
  const endpoint = `https://127.0.0.1:${client}`;
  const made = await runCommand("bash", ["-euc", CERTS], { cwd: dir });
  if (made.code !== 0) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`openssl could not make the test certificates: ${made.stderr}`);
  }
  const peerUrl = `http://127.0.0.1:${peer}`;
  const etcd = spawnCollecting(ETCD_BIN, [
    ...memberFlags("tls", `${dir}/data`, endpoint, peerUrl),
    "--initial-cluster",
    `tls=${peerUrl}`,
    "--cert-file",
    `${dir}/${opts.serverCert ?? "server"}.pem`,
    "--key-file",
    `${dir}/server-key.pem`,
    "--client-cert-auth",
    "--trusted-ca-file",
    `${dir}/ca.pem`,
  ]);
  const stop = async () => {
    await etcd.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const caCerts = [await Deno.readTextFile(`${dir}/ca.pem`)];
    const cert = await Deno.readTextFile(`${dir}/client.pem`);
    const key = await Deno.readTextFile(`${dir}/client-key.pem`);
    await waitFor("etcd healthy over TLS", () => healthy(client, caCerts, cert, key), 30_000, 200);
  } catch (err) {
    await stop();
    throw new Error(`${err}\n${etcd.output()}`);
  }
  return { dir, endpoint, output: etcd.output, stop };
}

/** Whether etcd's /health says true, asked over TLS with the client certificate. */
async function healthy(port: number, caCerts: string[], cert: string, key: string) {
  try {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts, cert, key });
    try {
      await conn.write(
        new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
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
}
