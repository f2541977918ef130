/**
 * The one place that builds etcd clients: endpoint discovery (`dns+srv://`), TLS files,
 * credentials, call deadlines and the retry policy.
 */
import { Buffer } from "node:buffer";
import type { Etcd3, IOptions } from "etcd3";
import { describeEndpoints, type EtcdOptions } from "./options.ts";
import { classifyTlsError, loadEtcdTls, probeEtcdTls } from "./tls_check.ts";

export { EtcdTlsError } from "./tls_check.ts";

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

/** npm:etcd3 with gRPC and protobufjs: about 17 MB of resident memory once loaded. */
type Etcd3Module = typeof import("etcd3");
let etcd3Module: Promise<Etcd3Module> | null = null;

/**
 * Loads npm:etcd3 on first use, so a server whose Corefile has no etcd plugin (and the commands
 * that never reach etcd) never pays for it. The specifier is a string literal, so `deno
 * compile` still embeds the package.
 */
function loadEtcd3(): Promise<Etcd3Module> {
  return etcd3Module ??= import("etcd3");
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
 * A retry policy for etcd3's pool: up to `attempts` tries on recoverable (connection) errors,
 * each possibly on another endpoint. It replaces etcd3's default per-host circuit breaker,
 * which would refuse all calls for 5 s after three failures and so delay recovery when etcd
 * comes back.
 */
function retryPolicy(attempts: number, isRecoverableError: (err: Error) => boolean) {
  return {
    async execute<T>(fn: (ctx: { attempt: number }) => Promise<T>): Promise<T> {
      for (let attempt = 0;; attempt++) {
        try {
          return await fn({ attempt });
        } catch (err) {
          if (attempt + 1 >= attempts || !(err instanceof Error) || !isRecoverableError(err)) {
            throw err;
          }
        }
      }
    },
  };
}

/** A host policy that adds nothing; async so that etcd3's `markFailed` (which throws inside
 * `execute` and expects a rejected promise) never throws synchronously into a stream handler. */
const passThrough = {
  async execute<T>(fn: () => Promise<T> | T): Promise<T> {
    return await fn();
  },
};

/**
 * Builds an etcd client from `opts`: resolves `dns+srv://` endpoints, reads and checks the TLS
 * files, sets credentials and per-call deadlines (`timeoutMs`). With TLS it shakes hands once
 * with each https endpoint, so that a rejected client certificate or an untrusted server shows
 * now, as an `EtcdTlsError`, instead of as "unreachable" later; an endpoint that does not answer
 * is no error (a plugin may start while etcd is down). Errors name the endpoint or file and what
 * to check; an `EtcdTlsError` means the TLS settings cannot work, and servers stop at start.
 */
export async function connectEtcd(opts: EtcdOptions, extra: ConnectOptions = {}): Promise<Etcd3> {
  const { Etcd3, isRecoverableError } = await loadEtcd3();
  const hosts = await resolveEndpoints(opts, extra.resolveSrv);
  if (hosts.some((h) => h.startsWith("https://"))) {
    // node:tls and node:net load only for https endpoints.
    (await import("./tls_ip.ts")).allowIpEndpointsOverTls();
  }
  const options: IOptions = {
    hosts,
    dialTimeout: opts.timeoutMs,
    defaultCallOptions: (ctx) => ctx.isStream ? {} : { deadline: Date.now() + opts.timeoutMs },
    grpcOptions: {
      // Reconnect quickly once etcd is back; gRPC's default backoff grows to two minutes.
      "grpc.initial_reconnect_backoff_ms": 200,
      "grpc.max_reconnect_backoff_ms": 2000,
      // A large hosts file is one value; gRPC's default 4 MiB receive limit would refuse it.
      "grpc.max_receive_message_length": -1,
    },
    faultHandling: {
      global: retryPolicy(Math.max(2, hosts.length), isRecoverableError) as unknown as NonNullable<
        IOptions["faultHandling"]
      >["global"],
      host: () =>
        passThrough as unknown as ReturnType<
          NonNullable<NonNullable<IOptions["faultHandling"]>["host"]>
        >,
    },
  };
  if (opts.tls) {
    const files = await loadEtcdTls(opts);
    if (extra.probeTls ?? true) await probeEtcdTls(hosts, files, opts);
    const { ca, key, cert } = files;
    // No CA means the system's roots; grpc accepts an absent root certificate for that.
    options.credentials = { rootCertificate: ca as Buffer, privateKey: key, certChain: cert };
  }
  if (opts.username !== undefined) {
    options.auth = { username: opts.username, password: opts.password ?? "" };
  }
  try {
    return new Etcd3(options);
  } catch (err) {
    throw new Error(
      `etcd client for ${describeEndpoints(opts)}: ${
        errorText(err)
      }; check the endpoint and tls settings`,
    );
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // grpc-js appends an empty "Resolution note:" to connection errors.
  return text.replace(/\s*Resolution note:\s*$/, "");
}

/**
 * Turns an etcd call failure into a message that says where and what to check, e.g.
 * "etcd at http://10.0.0.1:2379 is unreachable (...): check that etcd runs there, the
 * endpoint, tls and credentials".
 */
export function explainEtcdError(err: unknown, opts: EtcdOptions): string {
  const text = errorText(err);
  const where = `etcd at ${describeEndpoints(opts)}`;
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
