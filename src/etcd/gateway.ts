/**
 * `EtcdClient`: etcd's v3 API through its JSON gateway (HTTP/1.1 POSTs to `/v3/...` on the
 * client port, served by every etcd since 3.4), with `fetch`.
 *
 * Why not gRPC: npm:etcd3 with grpc-js, protobufjs and node:http2 holds about 25 MB in every
 * process that loads it, and node:http2 in Deno can crash on the GOAWAY etcd sends when it
 * restarts. The gateway carries the same messages (wire.ts) at a fraction of the memory.
 *
 * What the transport does for every call: picks the endpoint in use, and moves on to the
 * next when one is unreachable (a call that cannot have reached etcd is tried again there); sets
 * the deadline; signs the call with an auth token, fetched on first use and again when etcd
 * says it expired; turns the gateway's errors into `EtcdError` with etcd's own message. Replies
 * and stream messages are capped in size.
 */
import {
  decodeDeleteRange,
  decodeHeader,
  decodeLease,
  decodeLeaseTimeToLive,
  decodeRange,
  decodeTxn,
  decodeWatch,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  encodeRequest,
  type Int64,
  type LeaseResponse,
  type LeaseTimeToLiveResponse,
  type PutRequest,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type TxnRequest,
  type TxnResponse,
  type WatchCreateRequest,
  type WatchResponse,
} from "./wire.ts";
import { JsonLines } from "./json_lines.ts";

/** gRPC status codes the client acts on. */
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;

/** The largest reply or stream message read from etcd (etcd's own request cap is 1.5 MiB). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** A failed etcd call: etcd's message and gRPC status code, and where it went. */
export class EtcdError extends Error {
  constructor(
    message: string,
    /** The gRPC status code (14: unavailable, 4: deadline exceeded, 16: unauthenticated). */
    readonly code: number,
    /** The endpoint the call went to. */
    readonly endpoint: string,
    /** True when the call never reached etcd (no connection), so it is safe to repeat. */
    readonly unreachable = false,
  ) {
    super(message);
    this.name = "EtcdError";
  }
}

/** How an `EtcdClient` reaches etcd. */
export interface EtcdClientOptions {
  /** `http://` or `https://` URLs, already resolved (no `dns+srv://`). */
  endpoints: readonly string[];
  /** The deadline of one call, and of opening a watch, in milliseconds. */
  timeoutMs: number;
  username?: string;
  password?: string;
  /** TLS as PEM text; absent fields mean the system roots and no client certificate. */
  tls?: { ca?: string; cert?: string; key?: string };
}

/** An open watch stream: its messages in order, until `cancel()` or the stream ends. */
export interface WatchStream {
  readonly responses: AsyncIterable<WatchResponse>;
  /** The endpoint the stream is on. */
  readonly endpoint: string;
  cancel(): void;
}

/** etcd's v3 API over its JSON gateway; see the module comment. */
export class EtcdClient {
  readonly #o: EtcdClientOptions;
  readonly #http: Deno.HttpClient | undefined;
  readonly #closing = new AbortController();
  #current = 0;
  #token: Promise<string> | null = null;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error("etcd client needs at least one endpoint");
    this.#o = options;
    const tls = options.tls;
    if (tls) {
      this.#http = Deno.createHttpClient({
        caCerts: tls.ca === undefined ? undefined : [tls.ca],
        cert: tls.cert,
        key: tls.key,
      });
    }
  }

  /** The endpoint calls go to now: the first, until it fails. */
  get currentEndpoint(): string {
    return this.#o.endpoints[this.#current];
  }

  /** Reads one key or a range. */
  async range(req: RangeRequest): Promise<RangeResponse> {
    return decodeRange(await this.#call("/v3/kv/range", req, true));
  }

  /** Writes one key. */
  async put(req: PutRequest): Promise<{ header: ResponseHeader }> {
    return { header: decodeHeader((await this.#call("/v3/kv/put", req, false)).header) };
  }

  /** Deletes one key or a range. */
  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return decodeDeleteRange(await this.#call("/v3/kv/deleterange", req, false));
  }

  /** Runs a transaction. */
  async txn(req: TxnRequest): Promise<TxnResponse> {
    return decodeTxn(await this.#call("/v3/kv/txn", req, false));
  }

  /** Compacts the history up to `revision`. */
  async compact(revision: Int64, physical = false): Promise<void> {
    await this.#call("/v3/kv/compaction", { revision: String(revision), physical }, false);
  }

  /** Grants a lease of `ttlSeconds`. */
  async leaseGrant(ttlSeconds: number): Promise<LeaseResponse> {
    return decodeLease(await this.#call("/v3/lease/grant", { TTL: String(ttlSeconds) }, false));
  }

  /** Revokes a lease, which deletes its keys. */
  async leaseRevoke(id: string): Promise<void> {
    await this.#call("/v3/lease/revoke", { ID: id }, false);
  }

  /**
   * Renews a lease once. TTL "0" in the answer means etcd no longer has it. (A keepalive is a
   * stream in gRPC; through the gateway one request renews once, and etcd 3.4 to 3.7 then end
   * the reply, so the connection serves the next call.)
   */
  async leaseKeepAlive(id: string): Promise<LeaseResponse> {
    return decodeLease(await this.#call("/v3/lease/keepalive", { ID: id }, true, true));
  }

  /** A lease's TTL left and, with `keys`, the keys attached to it. */
  async leaseTimeToLive(id: string, keys = false): Promise<LeaseTimeToLiveResponse> {
    return decodeLeaseTimeToLive(await this.#call("/v3/lease/timetolive", { ID: id, keys }, true));
  }

  /**
   * Opens a watch: resolves once etcd accepted the request (within the deadline), then
   * yields its messages until `cancel()`, `close()` or the connection ends. One request
   * carries one watch, and it cannot send more (no progress requests), so a caller that
   * needs liveness checks it with unary calls (see ResilientWatch).
   */
  async watch(create: WatchCreateRequest): Promise<WatchStream> {
    const abort = new AbortController();
    const cancel = () => abort.abort();
    this.#closing.signal.addEventListener("abort", cancel);
    const timer = setTimeout(() => abort.abort("timeout"), this.#o.timeoutMs);
    const { endpoint, res } = await this.#open("/v3/watch", { create_request: create }, abort)
      .catch((err) => {
        this.#closing.signal.removeEventListener("abort", cancel);
        throw abort.signal.reason === "timeout" ? this.#deadline(this.currentEndpoint) : err;
      })
      .finally(() => clearTimeout(timer));
    const lines = new JsonLines(res.body!, MAX_MESSAGE_BYTES, abort.signal);
    const closing = this.#closing.signal;
    // etcd cancels a watch opened with an expired token instead of refusing the request.
    const tokenExpired = () => this.#token = null;
    async function* responses(): AsyncGenerator<WatchResponse> {
      try {
        for await (const message of lines) {
          const response = decodeWatch(resultOf(message, endpoint));
          if (response.canceled && /invalid auth token/.test(response.cancel_reason)) {
            tokenExpired();
          }
          yield response;
        }
        // Held to the end: a Response collected while its body is read stops noticing aborts.
        void res;
      } catch (err) {
        if (abort.signal.aborted) return;
        throw err instanceof EtcdError ? err : unreachable(err, endpoint);
      } finally {
        closing.removeEventListener("abort", cancel);
        abort.abort();
      }
    }
    return { responses: responses(), endpoint, cancel };
  }

  /** Ends every call and stream, and the TLS connections. */
  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    this.#http?.close();
  }

  /**
   * One request and its whole reply. A call that never reached etcd moves to the next
   * endpoint and is tried again (up to once per endpoint, at least twice); a timed-out call
   * only when `idempotent`, and only when there is another endpoint.
   */
  async #call(
    path: string,
    req: object,
    idempotent: boolean,
    streamed = false,
  ): Promise<Record<string, unknown>> {
    const n = this.#o.endpoints.length;
    const attempts = Math.max(2, n);
    let renewedToken = false;
    for (let attempt = 0;; attempt++) {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort("timeout"), this.#o.timeoutMs);
      const cancel = () => abort.abort();
      this.#closing.signal.addEventListener("abort", cancel);
      let endpoint = this.#o.endpoints[this.#current];
      try {
        const opened = await this.#open(path, req, abort);
        endpoint = opened.endpoint;
        const reply = await readCapped(opened.res, endpoint, abort.signal);
        return streamed ? resultOf(reply, endpoint) : reply;
      } catch (e) {
        const err = abort.signal.reason === "timeout"
          ? this.#deadline(endpoint)
          : e instanceof EtcdError
          ? e
          : unreachable(e, endpoint);
        if (this.#closing.signal.aborted) throw new EtcdError("etcd client closed", 1, endpoint);
        if (err.code === UNAUTHENTICATED && !renewedToken && this.#o.username !== undefined) {
          // An expired token (etcd's simple tokens live five minutes): authenticate again.
          renewedToken = true;
          this.#token = null;
          attempt--;
          continue;
        }
        const again = err.unreachable ||
          (err.code === DEADLINE_EXCEEDED && idempotent && n > 1);
        if (!again || attempt + 1 >= attempts) throw err;
        this.#moveOn(endpoint);
      } finally {
        clearTimeout(timer);
        this.#closing.signal.removeEventListener("abort", cancel);
      }
    }
  }

  #deadline(endpoint: string): EtcdError {
    return new EtcdError(
      `deadline exceeded: no answer within ${this.#o.timeoutMs} ms`,
      DEADLINE_EXCEEDED,
      endpoint,
    );
  }

  /** Stops using `endpoint` (if still the current one) in favour of the next. */
  #moveOn(endpoint: string): void {
    if (this.#o.endpoints[this.#current] === endpoint) {
      this.#current = (this.#current + 1) % this.#o.endpoints.length;
    }
  }

  /** Sends one request to the current endpoint; resolves to the reply once etcd accepted it. */
  async #open(
    path: string,
    req: object,
    abort: AbortController,
  ): Promise<{ endpoint: string; res: Response }> {
    const endpoint = this.#o.endpoints[this.#current];
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#o.username !== undefined && path !== "/v3/auth/authenticate") {
      headers.authorization = await this.#authToken();
    }
    let res: Response;
    try {
      res = await fetch(endpoint + path, {
        method: "POST",
        headers,
        body: encodeRequest(req),
        signal: abort.signal,
        client: this.#http,
      });
    } catch (err) {
      if (abort.signal.aborted) throw err;
      this.#moveOn(endpoint);
      throw unreachable(err, endpoint);
    }
    if (!res.body) throw new EtcdError(`empty reply to ${path}`, UNAVAILABLE, endpoint);
    if (!res.ok) {
      const reply = await readCapped(res, endpoint, abort.signal).catch(() => ({}));
      throw gatewayError(reply, res.status, endpoint);
    }
    return { endpoint, res };
  }

  /** The auth token, authenticating once for every caller waiting on it. */
  #authToken(): Promise<string> {
    if (this.#token === null) {
      const token = this.#call(
        "/v3/auth/authenticate",
        { name: this.#o.username, password: this.#o.password ?? "" },
        false,
      ).then((r) => {
        if (typeof r.token !== "string") throw new Error("etcd gave no auth token");
        return r.token;
      });
      token.catch(() => {
        if (this.#token === token) this.#token = null;
      });
      this.#token = token;
    }
    return this.#token;
  }
}

/** A transport failure (refused, reset, TLS, DNS) as an EtcdError that may be retried. */
function unreachable(err: unknown, endpoint: string): EtcdError {
  let text = err instanceof Error ? err.message : String(err);
  // fetch says only "fetch failed"; the cause says what failed (refused, TLS, DNS).
  if (err instanceof Error && err.cause instanceof Error) {
    text = err.cause.message.replace(/^error sending request .*?\): /, "");
  }
  return new EtcdError(`unavailable: ${text}`, UNAVAILABLE, endpoint, true);
}

/**
 * The gateway's error reply as an EtcdError. 3.4 says `{"error": ..., "code": ...}`, 3.5 on
 * `{"code": ..., "message": ...}`; a stream wraps either in `{"error": {...}}`.
 */
function gatewayError(reply: Record<string, unknown>, status: number, endpoint: string): EtcdError {
  const inner = reply.error !== null && typeof reply.error === "object"
    ? reply.error as Record<string, unknown>
    : reply;
  const message = typeof inner.message === "string"
    ? inner.message
    : typeof inner.error === "string"
    ? inner.error
    : `HTTP ${status}`;
  const code = typeof inner.code === "number"
    ? inner.code
    : typeof inner.grpc_code === "number"
    ? inner.grpc_code
    : UNAVAILABLE;
  return new EtcdError(message, code, endpoint);
}

/** The `result` of one stream message, or its `error` thrown. */
function resultOf(message: Record<string, unknown>, endpoint: string): Record<string, unknown> {
  if (message.error !== undefined) throw gatewayError(message, 200, endpoint);
  const result = message.result;
  return result !== null && typeof result === "object" ? result as Record<string, unknown> : {};
}

/**
 * Reads a whole reply, to its end so that the connection can serve the next call, and returns
 * its first message (each at most MAX_MESSAGE_BYTES).
 */
async function readCapped(
  res: Response,
  endpoint: string,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  let first: Record<string, unknown> | null = null;
  if (res.body === null) return {};
  try {
    for await (const message of new JsonLines(res.body, MAX_MESSAGE_BYTES, signal)) {
      first ??= message;
    }
  } catch (err) {
    throw err instanceof EtcdError ? err : unreachable(err, endpoint);
  }
  // An abort ends the reading quietly; what was read is no reply.
  if (signal.aborted) throw new Error("aborted");
  return first ?? {};
}
