/**
 * The vocabulary of an upstream exchange: its settings and errors, and the checks every reply
 * passes whatever transport carried it.
 *
 * A reply is accepted only when it comes from the upstream's address, carries the query's ID, has
 * QR set, decodes, and repeats the query's question. Anything else is ignored and the exchange
 * keeps waiting (a late reply to an earlier query, or a spoofing attempt), until its timeout.
 */
import {
  decode,
  type DnsMessage,
  fqdn,
  FullCodecNotLoaded,
  loadFullCodec,
  type Question,
} from "../../dns/message.ts";

/** The transports an exchange can use. */
export type Transport = "udp" | "tcp";

/** Why an exchange failed. */
export class ExchangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExchangeError";
  }
}

/** DNS over TLS settings of an upstream (`tls://`). */
export interface UpstreamTls {
  /**
   * The name the certificate must carry, and the SNI (`tls_servername`); without it the
   * certificate must carry the upstream's IP address, as Go's TLS client checks it.
   */
  serverName?: string;
  /** PEM certificates trusted besides the system roots (`tls CA` or `tls CERT KEY CA`). */
  caCerts?: string[];
  /** A client certificate and key, PEM (`tls CERT KEY`). */
  cert?: string;
  key?: string;
}

/** How an upstream keeps its sockets. */
export interface UpstreamOptions {
  /** Idle sockets unused for longer than this are closed (forward's `expire`); 0 keeps none. */
  expireMs: number;
  /** At most this many idle sockets per transport (`max_idle_conns`); 0 or absent: no limit. */
  maxIdleConns?: number;
  /** DNS over TLS: every exchange, whatever the transport asked for, goes over TLS. */
  tls?: UpstreamTls;
}

/** Formats an address as CoreDNS labels upstreams: `host:port`, IPv6 in brackets. */
export function hostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Decodes `data` if it answers `query`'s ID and question, else null (ignore it). A reply the fast
 * decoder declines (a record type it does not read) waits for dns-packet the first time: a
 * promise then, and an answer at once from then on.
 */
export function accept(
  data: Uint8Array,
  query: Uint8Array,
  question: Question,
): DnsMessage | null | Promise<DnsMessage | null> {
  if (data.length < 12 || data[0] !== query[0] || data[1] !== query[1]) return null;
  if ((data[2] & 0x80) === 0) return null;
  // Copy: the socket buffer is reused, and decoded records may hold views into their input.
  const bytes = data.slice();
  try {
    return answering(decode(bytes), question);
  } catch (err) {
    if (!(err instanceof FullCodecNotLoaded)) return null;
    return loadFullCodec().then(() => answering(decode(bytes), question)).catch(() => null);
  }
}

/** `reply` if it repeats `question`, else null. */
function answering(reply: DnsMessage, question: Question): DnsMessage | null {
  const q = reply.questions[0];
  if (reply.questions.length !== 1 || !q) return null;
  if (q.type !== question.type || (q.class ?? "IN") !== (question.class ?? "IN")) return null;
  if (fqdn(q.name) !== fqdn(question.name)) return null;
  return reply;
}

/** Whether a datagram from `a` comes from the upstream `b`. */
export function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  // An IPv6 socket may report an IPv4 peer as IPv4-mapped.
  return a.toLowerCase() === `::ffff:${b}`.toLowerCase();
}

const ids = new Uint16Array(512);
let nextId = ids.length;

/** A random 16-bit message ID, from a batch of cryptographic randomness refilled as it runs out. */
export function randomId(): number {
  if (nextId === ids.length) {
    crypto.getRandomValues(ids);
    nextId = 0;
  }
  return ids[nextId++];
}

/**
 * `opening`, or a rejection as soon as `signal` aborts (a TLS handshake cannot be cancelled); a
 * socket that opens after that is closed at once.
 */
export function abortable<T extends { conn: { close(): void } }>(
  opening: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const closeLate = () => {
    opening.then((s) => {
      try {
        s.conn.close();
      } catch { /* closed already */ }
    }, () => {});
  };
  if (signal.aborted) {
    closeLate();
    return Promise.reject(new ExchangeError("aborted"));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(new ExchangeError("aborted"));
      closeLate();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    opening.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
