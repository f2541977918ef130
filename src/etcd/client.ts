/**
 * The one place that builds etcd clients from settings (endpoint discovery through
 * `dns+srv://`, TLS files, credentials, call deadlines) and that words etcd's errors for
 * people. The transport itself, with its fail-over and retries, is gateway.ts.
 */
import { EtcdClient, type EtcdClientOptions } from "./gateway.ts";
import { describeEndpoints, type EtcdOptions } from "./options.ts";
import {
  classifyTlsError,
  EtcdTlsError,
  GATEWAY_CANNOT_REACH_ETCD,
  isGatewayTlsFailure,
  loadEtcdTls,
  probeEtcdTls,
} from "./tls_check.ts";

export { EtcdTlsError } from "./tls_check.ts";
export { EtcdClient, EtcdError, type WatchStream } from "./gateway.ts";

/** One SRV answer, as `Deno.resolveDns(name, "SRV")` returns it. */
export interface SrvAnswer {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** How SRV names are looked up; tests pass their own. */
export type SrvResolver = (name: string) => Promise<SrvAnswer[]>;

/** Extra, mostly test-facing, knobs for `connectEtcd`. */
export interface ConnectOptions {
  /** Replaces `Deno.resolveDns(name, "SRV")`. */
  resolveSrv?: SrvResolver;
  /** Shake hands with the https endpoints before returning (default true). */
  probeTls?: boolean;
}

const defaultResolveSrv: SrvResolver = (name) => Deno.resolveDns(name, "SRV");

/**
 * Expands `dns+srv://DOMAIN` endpoints the way etcd's own clients do: the targets of
 * `_etcd-client-ssl._tcp.DOMAIN` (as https://) and `_etcd-client._tcp.DOMAIN` (as http://),
 * merged. Other endpoints pass through. When a domain publishes both kinds, the https ones are
 * kept if `tls` is configured and the http ones otherwise, because one client cannot mix them.
 */
export async function resolveEndpoints(
  opts: EtcdOptions,
  resolveSrv: SrvResolver = defaultResolveSrv,
): Promise<string[]> {
  const out: string[] = [];
  for (const endpoint of opts.endpoints) {
    if (!endpoint.startsWith("dns+srv://")) {
      out.push(endpoint);
      continue;
    }
    const domain = endpoint.slice("dns+srv://".length).replace(/\.$/, "");
    const lookup = async (service: string, scheme: string) => {
      const name = `${service}.${domain}`;
      try {
        const answers = await resolveSrv(name);
        return answers
          .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
          .map((a) => `${scheme}://${hostPort(a.target.replace(/\.$/, ""), a.port)}`);
      } catch {
        return [];
      }
    };
    const [secure, plain] = await Promise.all([
      lookup("_etcd-client-ssl._tcp", "https"),
      lookup("_etcd-client._tcp", "http"),
    ]);
    const chosen = secure.length > 0 && plain.length > 0
      ? (opts.tls ? secure : plain)
      : [...secure, ...plain];
    if (chosen.length === 0) {
      throw new Error(
        `etcd endpoint ${endpoint}: found no SRV records at _etcd-client-ssl._tcp.${domain} or ` +
          `_etcd-client._tcp.${domain}; check the DNS records and the resolver, or list the ` +
          `endpoints as http(s)://HOST:PORT`,
      );
    }
    for (const e of chosen) if (!out.includes(e)) out.push(e);
  }
  return out;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Builds an etcd client from `opts`: resolves `dns+srv://` endpoints, reads and checks the TLS
 * files, sets credentials and per-call deadlines (`timeoutMs`). With TLS it shakes hands once
 * with each https endpoint, so that a rejected client certificate or an untrusted server shows
 * now, as an `EtcdTlsError`, instead of as "unreachable" later; an endpoint that does not answer
 * is no error (a plugin may start while etcd is down). Errors name the endpoint or file and what
 * to check; an `EtcdTlsError` means the TLS settings cannot work, and servers stop at start.
 */
export async function connectEtcd(
  opts: EtcdOptions,
  extra: ConnectOptions = {},
): Promise<EtcdClient> {
  const endpoints = await resolveEndpoints(opts, extra.resolveSrv);
  const options: EtcdClientOptions = {
    endpoints,
    timeoutMs: opts.timeoutMs,
    username: opts.username,
    password: opts.username === undefined ? undefined : opts.password ?? "",
  };
  if (opts.tls) {
    const files = await loadEtcdTls(opts);
    if (extra.probeTls ?? true) await probeEtcdTls(endpoints, files, opts);
    // No CA means the system's roots.
    options.tls = {
      ca: files.ca?.toString("utf8"),
      cert: files.cert?.toString("utf8"),
      key: files.key?.toString("utf8"),
    };
  }
  let client: EtcdClient;
  try {
    client = new EtcdClient(options);
  } catch (err) {
    throw new Error(
      `etcd client for ${describeEndpoints(opts)}: ${
        errorText(err)
      }; check the endpoint and tls settings`,
    );
  }
  if (opts.tls && (extra.probeTls ?? true)) await checkGateway(client, opts);
  return client;
}

/**
 * One small read through the gateway, so that a TLS etcd whose gateway cannot reach etcd
 * itself (see GATEWAY_CANNOT_REACH_ETCD) stops a server at start, as other TLS mistakes do.
 * Any other failure (etcd down, credentials) is left to the callers, as before.
 */
async function checkGateway(client: EtcdClient, opts: EtcdOptions): Promise<void> {
  const err = await client.range({ key: "\0", count_only: true }).then(() => null, (e) => e);
  if (isGatewayTlsFailure(err, opts)) {
    client.close();
    throw new EtcdTlsError(`etcd at ${describeEndpoints(opts)}: ${GATEWAY_CANNOT_REACH_ETCD}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns an etcd call failure into a message that says where and what to check, e.g.
 * "etcd at http://10.0.0.1:2379 is unreachable (...): check that etcd runs there, the
 * endpoint, tls and credentials".
 */
export function explainEtcdError(err: unknown, opts: EtcdOptions): string {
  const text = errorText(err);
  const where = `etcd at ${describeEndpoints(opts)}`;
  if (isGatewayTlsFailure(err, opts)) return `${where}: ${GATEWAY_CANNOT_REACH_ETCD} (${text})`;
  const tls = classifyTlsError(text, opts);
  if (tls !== null) {
    return `${where}: ${tls}${tls.includes(text) ? "" : ` (${text})`}; check the tls settings`;
  }
  if (/auth|permission|token|user/i.test(text)) {
    return `${where} refused the request (${text}); check the credentials and the user's role`;
  }
  if (/deadline/i.test(text)) {
    return `${where} did not answer within ${opts.timeoutMs} ms (${text}); check that etcd runs and is reachable, or raise timeout`;
  }
  if (/unavailable|connect|ECONNREFUSED|No connection|socket|closed/i.test(text)) {
    return `${where} is unreachable (${text}); check that etcd runs there and the endpoint and tls settings`;
  }
  return `${where}: ${text}`;
}
