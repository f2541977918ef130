/**
 * TcpSession's backpressure over all connections: replies waiting for clients that never read
 * are capped per thread (TCP_MAX_QUEUED_BYTES_TOTAL), however many such clients there are.
 */
import assert from "node:assert/strict";
import { type StreamConn, tcpQueuedBytes, TcpSession } from "../../src/server/tcp_session.ts";
import { TCP_MAX_QUEUED_BYTES_TOTAL } from "../../src/server/tcp_limits.ts";
import { compose } from "../../src/server/chain.ts";
import { ZoneRouter } from "../../src/server/router.ts";
import { replyTo, type ResourceRecord } from "../../src/dns/message.ts";
import type { Plugin } from "../../src/plugin/plugin.ts";
import type { QueryContext } from "../../src/plugin/query.ts";
import { makeQuery } from "../helpers/query.ts";

/**
 * A router answering every query with `records` A records (about 16 bytes each on the wire), at
 * once or after a timer.
 */
function bigAnswers(records: number, later: boolean): ZoneRouter {
  const answer = (q: QueryContext) => {
    const reply = replyTo(q.request);
    const name = q.question.name;
    reply.answers = Array.from({ length: records }, (_, i): ResourceRecord => ({
      type: "A",
      name,
      class: "IN",
      ttl: 60,
      data: `10.${i >> 16 & 255}.${i >> 8 & 255}.${i & 255}`,
    }));
    q.write(reply);
  };
  const plugin: Plugin = {
    name: "big",
    handle: (q) => later ? new Promise((r) => setTimeout(() => r(answer(q)), 1)) : answer(q),
  };
  const r = new ZoneRouter();
  r.add({ zone: ".", chain: compose([plugin]) });
  return r;
}

/**
 * A client that sends `queries` framed queries and then nothing, and never reads: its reads
 * after the queries and all its writes hang until it is closed.
 */
class DeafClient implements StreamConn {
  readonly remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
  readonly localAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 53 };
  closed = false;
  #stream: Uint8Array;
  #at = 0;
  #hang = Promise.withResolvers<never>();

  constructor(queries: number) {
    const one = makeQuery("big.example.org", "A");
    this.#stream = new Uint8Array(queries * (one.length + 2));
    for (let i = 0; i < queries; i++) {
      this.#stream[i * (one.length + 2) + 1] = one.length;
      this.#stream.set(one, i * (one.length + 2) + 2);
    }
  }

  read(into: Uint8Array): Promise<number | null> {
    if (this.#at >= this.#stream.length) return this.#hang.promise;
    const n = Math.min(into.length, this.#stream.length - this.#at);
    into.set(this.#stream.subarray(this.#at, this.#at + n));
    this.#at += n;
    return Promise.resolve(n);
  }

  write(): Promise<number> {
    return this.#hang.promise;
  }

  close(): void {
    this.closed = true;
    this.#hang.reject(new Error("closed"));
  }
}

/** Runs 200 deaf clients for a while; returns the most bytes queued and how many were closed. */
async function deafClients(later: boolean): Promise<{ most: number; closed: number }> {
  // 3,000 records: a ~48 KB reply. 200 clients x 16 in flight would hold ~150 MB without the
  // cap over all connections.
  const router = bigAnswers(3000, later);
  const clients = Array.from({ length: 200 }, () => new DeafClient(64));
  const sessions = clients.map((c) => new TcpSession(c, "dns://:53", () => router));
  const runs = sessions.map((s) => s.run().catch(() => {}));
  let most = 0;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 2));
    most = Math.max(most, tcpQueuedBytes());
  }
  const closed = clients.filter((c) => c.closed).length;
  sessions.forEach((s) => s.close());
  await Promise.all(runs);
  assert.equal(tcpQueuedBytes(), 0, "closing the sessions drops what they queued");
  return { most, closed };
}

const REPLY = 3000 * 16 + 64; // one framed reply, with room to spare

Deno.test("tcp: replies waiting for clients that never read are capped over all connections", async () => {
  // Answered at once: a session with a reply waiting reads no more once the total is reached,
  // so the total passes the cap by at most one reply per session that had none waiting.
  const now = await deafClients(false);
  assert.ok(now.most >= TCP_MAX_QUEUED_BYTES_TOTAL, `the clients filled the queues: ${now.most}`);
  assert.ok(now.most <= TCP_MAX_QUEUED_BYTES_TOTAL + 200 * REPLY, `queued at most ${now.most}`);

  // Answered later: up to 16 queries per session were read before the total was reached; past
  // twice the cap a session with replies waiting is closed instead of given another.
  const later = await deafClients(true);
  assert.ok(later.most <= 2 * TCP_MAX_QUEUED_BYTES_TOTAL + REPLY, `queued at most ${later.most}`);
  assert.ok(later.closed > 0, "deaf clients were closed past twice the cap");
});
