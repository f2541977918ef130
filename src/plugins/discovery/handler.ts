/**
 * The discovery service: etcd's v2 discovery protocol over HTTP, backed by etcd's v3 API.
 *
 * It implements exactly what etcd 3.4/3.5's v2discovery client (client keys API with an empty
 * prefix) sends for `etcd --discovery http://HOST:PORT/TOKEN`:
 *
 *   GET /TOKEN/_config/size                      the size key
 *   GET /TOKEN[?recursive=&sorted=&quorum=]      the registrations (and the _config dir)
 *   PUT /TOKEN/MEMBERID?prevExist=false          register (form body value=NAME=PEER_URL)
 *   GET KEY?wait=true&waitIndex=N[&recursive=true]   the first change at index >= N
 *
 * v2 indexes are v3 revisions: createdIndex = create_revision, modifiedIndex = mod_revision,
 * X-Etcd-Index = the revision of the read, and waitIndex N watches from revision N. The v2
 * wire pieces (paths, bodies, nodes, error bodies) are in v2.ts.
 */
import { type EtcdClient, explainEtcdError, type WatchStream } from "../../etcd/client.ts";
import type { WatchResponse } from "../../etcd/wire.ts";
import { type EtcdHandle, etcdPool } from "../../etcd/pool.ts";
import type { EtcdOptions } from "../../etcd/options.ts";
import { prefixEnd } from "../../etcd/watch.ts";
import { errorMessage } from "../../util/errors.ts";
import { type Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { checkMemberValue, readToken, registerMember, stored, type TokenLayout } from "./store.ts";
import {
  bool,
  getNode,
  json,
  leaf,
  parseTarget,
  readBody,
  type Target,
  V2Error,
  v2Error,
} from "./v2.ts";

/** A wait answers 200 with an empty body after this long; the v2 client simply asks again. */
export const WAIT_TIMEOUT_MS = 60_000;
/** At most this many waits at once; more get 503 (the v2 client backs off and retries). */
export const MAX_WAITERS = 256;

/** The running service: an etcd client, the live waits, and the request handler. */
export class DiscoveryService implements Resource {
  #etcd: EtcdHandle | null = null;
  #client: EtcdClient | null = null;
  #closed = false;
  readonly #waiters = new Set<(why: "shutdown") => void>();

  constructor(
    readonly etcd: EtcdOptions,
    readonly layout: TokenLayout,
    readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.#etcd = await etcdPool.acquire(this.etcd);
    this.#client = this.#etcd.client;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of [...this.#waiters]) stop("shutdown");
    this.#waiters.clear();
    // Let the waits answer before the client goes.
    await Promise.resolve();
    this.#etcd?.release();
    this.#etcd = null;
    this.#client = null;
  }

  /** Answers one HTTP request. Never throws. */
  handle = async (req: Request): Promise<Response> => {
    let index = 0;
    try {
      const client = this.#client;
      if (!client || this.#closed) {
        throw new V2Error(503, 300, "the discovery service is shutting down");
      }
      const url = new URL(req.url);
      const target = parseTarget(url.pathname);
      const method = req.method === "HEAD" ? "GET" : req.method;
      if (method === "PUT") return await this.#put(client, req, url, target);
      if (method !== "GET") {
        return new Response(null, { status: 405, headers: { allow: "GET, HEAD, PUT" } });
      }
      const q = url.searchParams;
      for (const name of ["recursive", "sorted", "quorum", "wait", "stream"]) bool(q, name);
      if (bool(q, "stream")) throw new V2Error(400, 209, "stream=true is not supported");
      if (bool(q, "wait")) return await this.#wait(client, req, q, target);
      const state = await readToken(client, this.layout, target.token);
      index = state.revision;
      return json(
        200,
        { action: "get", node: getNode(state, target, bool(q, "recursive")) },
        state,
      );
    } catch (err) {
      return this.#error(err, index);
    }
  };

  #error(err: unknown, index: number): Response {
    if (err instanceof V2Error) {
      return v2Error(err.status, err.code, err.detail, err.index || index);
    }
    this.log.error(`${explainEtcdError(err, this.etcd)}`);
    return v2Error(503, 300, "the backing etcd is unavailable; retry later", index);
  }

  async #put(client: EtcdClient, req: Request, url: URL, target: Target): Promise<Response> {
    const body = await readBody(req);
    if (target.kind === "config" || target.kind === "size") {
      throw new V2Error(403, 106, `/${target.token}/_config is set by 'etcdns discovery new'`);
    }
    if (target.kind !== "member") {
      throw new V2Error(403, 102, `/${target.token} is a directory; register at /TOKEN/MEMBERID`);
    }
    const q = url.searchParams;
    for (const name of ["dir", "prevValue", "prevIndex", "refresh", "noValueOnSuccess"]) {
      if (q.has(name)) {
        throw new V2Error(400, 209, `${name} is not supported: registrations are create-only`);
      }
    }
    const prevExist = q.get("prevExist");
    if (prevExist !== null && prevExist !== "false") {
      throw new V2Error(
        400,
        209,
        `prevExist=${prevExist.slice(0, 20)}: registrations are create-only`,
      );
    }
    let form: URLSearchParams;
    try {
      form = new URLSearchParams(body);
    } catch {
      throw new V2Error(400, 210, "the body is not a form");
    }
    if (form.has("ttl") || q.has("ttl")) {
      throw new V2Error(
        400,
        209,
        "ttl is not supported: a token's registrations share its lifetime",
      );
    }
    const value = form.get("value") ?? q.get("value");
    if (value === null) throw new V2Error(400, 200, `/${target.token}/${target.id}`);
    const problem = checkMemberValue(value);
    if (problem) throw new V2Error(400, 209, `value: ${problem}`);
    const key = `/${target.token}/${target.id}`;
    const res = await registerMember(client, this.layout, target.token, target.id, value);
    switch (res.result) {
      case "created":
        this.log.info(`registered member ${target.id} (${value}) on token ${target.token}`);
        return json(201, { action: "create", node: leaf(key, res.key) }, res.revision);
      case "no-token":
        throw new V2Error(404, 100, `/${target.token}`, res.state.revision);
      case "bad-size":
        throw new V2Error(
          403,
          103,
          `/${target.token}/_config/size is not a positive number`,
          res.state.revision,
        );
      case "exists":
        throw new V2Error(412, 105, key, res.state.revision);
      case "full":
        this.log.warn(
          `refused member ${target.id} on token ${target.token}: all ${res.state.size} registered`,
        );
        throw new V2Error(
          403,
          103,
          `discovery: cluster is full (${res.state.size} of ${res.state.size} registered)`,
          res.state.revision,
        );
    }
  }

  async #wait(
    client: EtcdClient,
    req: Request,
    q: URLSearchParams,
    target: Target,
  ): Promise<Response> {
    const waitText = q.get("waitIndex");
    let waitIndex: number | null = null;
    if (waitText !== null && waitText !== "") {
      if (!/^\d{1,18}$/.test(waitText)) {
        throw new V2Error(400, 203, `waitIndex=${waitText.slice(0, 20)}`);
      }
      waitIndex = Number(waitText);
    }
    if (this.#waiters.size >= MAX_WAITERS) {
      throw new V2Error(503, 300, `more than ${MAX_WAITERS} waits at once; retry later`);
    }
    const state = await readToken(client, this.layout, target.token);
    if (!state.sizeKey) throw new V2Error(404, 100, `/${target.token}`, state.revision);
    const t = target.token;
    let key: string;
    let rangeEnd: Uint8Array | undefined;
    switch (target.kind) {
      case "token":
        key = this.layout.tokenPrefix(t);
        rangeEnd = prefixEnd(key);
        break;
      case "config":
        key = `${this.layout.tokenPrefix(t)}_config/`;
        rangeEnd = prefixEnd(key);
        break;
      case "size":
        key = this.layout.sizeKey(t);
        break;
      case "member":
        key = this.layout.memberKey(t, target.id);
        break;
    }
    const start = waitIndex ?? state.revision + 1;
    return await this.#watchOnce(client, req, t, key, rangeEnd, start, state.revision);
  }

  /** Watches from `start` until the first event the v2 view shows; answers it. */
  #watchOnce(
    client: EtcdClient,
    req: Request,
    token: string,
    key: string,
    rangeEnd: Uint8Array | undefined,
    start: number,
    readRevision: number,
  ): Promise<Response> {
    return new Promise<Response>((resolve) => {
      let done = false;
      let stream: WatchStream | null = null;
      const finish = (res: Response) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.signal.removeEventListener("abort", onAbort);
        this.#waiters.delete(stop);
        stream?.cancel();
        resolve(res);
      };
      const stop = () =>
        finish(v2Error(503, 300, "the discovery service is shutting down", readRevision));
      const onAbort = () => finish(new Response(null, { status: 499 }));
      // The v2 client reads an empty 200 as "nothing yet" and asks again with the same index.
      const timer = setTimeout(() => finish(new Response(null, { status: 200 })), WAIT_TIMEOUT_MS);
      this.#waiters.add(stop);
      req.signal.addEventListener("abort", onAbort);
      const create = {
        key,
        range_end: rangeEnd,
        start_revision: String(start),
        prev_kv: true,
      };
      client.watch(create).then(async (s) => {
        stream = s;
        if (done) {
          s.cancel();
          return;
        }
        try {
          for await (const res of s.responses) {
            if (done) return;
            const answer = this.#answerOf(res, token, start, readRevision);
            if (answer !== null) return finish(answer);
          }
          finish(v2Error(503, 300, "the watch ended; retry", readRevision));
        } catch (err) {
          if (done) return;
          this.log.warn(`watch failed: ${errorMessage(err)}`);
          finish(v2Error(503, 300, "the backing etcd is unavailable; retry later", readRevision));
        }
      }, (err: unknown) => {
        this.log.warn(`cannot watch: ${explainEtcdError(err, this.etcd)}`);
        finish(v2Error(503, 300, "the backing etcd is unavailable; retry later", readRevision));
      });
    });
  }

  /** The v2 answer to one watch message: its first event the v2 view shows, else null. */
  #answerOf(
    res: WatchResponse,
    token: string,
    start: number,
    readRevision: number,
  ): Response | null {
    if (res.canceled) {
      const compacted = Number(res.compact_revision);
      return compacted > 0
        ? v2Error(
          400,
          401,
          `the requested history has been cleared [${compacted}/${start}]`,
          Number(res.header.revision) || readRevision,
        )
        : v2Error(503, 300, `etcd cancelled the watch: ${res.cancel_reason || "no reason"}`);
    }
    for (const e of res.events) {
      const v2Key = this.layout.v2Key(token, e.kv.key.toString());
      if (v2Key === null) continue;
      const mod = Number(e.kv.mod_revision);
      if (mod < start) continue;
      const prev = e.prev_kv ? stored(e.prev_kv) : null;
      let body: Record<string, unknown>;
      if (e.type === "DELETE") {
        body = {
          action: "delete",
          node: { key: v2Key, modifiedIndex: mod, createdIndex: prev?.createRevision ?? 0 },
        };
      } else {
        const kv = stored(e.kv);
        body = {
          action: kv.createRevision === kv.modRevision ? "create" : "set",
          node: leaf(v2Key, kv),
        };
      }
      if (prev) body.prevNode = leaf(v2Key, prev);
      return json(200, body, Number(res.header.revision) || mod);
    }
    return null;
  }
}
