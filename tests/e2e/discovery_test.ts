/**
 * The discovery plugin end to end: real etcd 3.4 members bootstrap through
 * `--discovery http://127.0.0.1:PORT/TOKEN` served by a real etcdns, backed by a separate etcd
 * through its v3 API; bad requests get v2's status codes and write nothing.
 */
import assert from "node:assert/strict";
import { EtcdClient } from "../../src/etcd/gateway.ts";
import { getText, memberList, putText, startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import {
  etcd37Binary,
  type EtcdMember,
  etcdnsCli,
  startMember,
  waitHealthy,
} from "../helpers/etcd_member.ts";
import { type EtcdnsProcess, startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";

const REGISTRY = "/_etcd/registry";

/** A backing etcd and an etcdns serving discovery from it. */
interface DiscoveryService {
  etcd: TestEtcd;
  srv: EtcdnsProcess;
  http: number;
  base: string;
  close(): Promise<void>;
}

/** Starts a DiscoveryService. */
async function discoveryService(): Promise<DiscoveryService> {
  const etcd = await startEtcd();
  const http = freePort();
  let srv: EtcdnsProcess;
  try {
    srv = await startEtcdns({
      corefile: `.:{PORT} {
    bind 127.0.0.1
    discovery 127.0.0.1:${http} {
        endpoint ${etcd.endpoint}
        ttl 1h
    }
    whoami
}
`,
      timeoutMs: 30_000,
    });
  } catch (err) {
    await etcd.close();
    throw err;
  }
  const base = `http://127.0.0.1:${http}`;
  await waitFor("the discovery listener", async () => {
    const res = await fetch(`${base}/x`);
    await res.body?.cancel();
    return res.status === 404;
  });
  return {
    etcd,
    srv,
    http,
    base,
    async close() {
      await srv.stop();
      await etcd.close();
    },
  };
}

/** Every key under the registry and the store revision: "wrote nothing" means both unchanged. */
async function snapshot(client: EtcdClient): Promise<{ revision: number; keys: string[] }> {
  const res = await client.range({ key: REGISTRY, range_end: `${REGISTRY}0` });
  return {
    revision: Number(res.header.revision),
    keys: res.kvs.map((kv) => `${kv.key}=${kv.value}`),
  };
}

async function newToken(corefile: string, size: number): Promise<string> {
  const out = await etcdnsCli([
    "discovery",
    "new",
    "--size",
    String(size),
    "-conf",
    corefile,
    "--json",
  ]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).token;
}

async function memberCount(s: { etcd: TestEtcd }, token: string): Promise<number> {
  const res = await s.etcd.client().range({
    key: `${REGISTRY}/${token}/members/`,
    range_end: `${REGISTRY}/${token}/members0`,
  });
  return res.kvs.length;
}

/** Runs `fn` with an etcd client of `clientUrl`, closed afterwards. */
async function withClient<T>(
  clientUrl: string,
  fn: (c: EtcdClient) => PromiseLike<T>,
): Promise<T> {
  const c = new EtcdClient({ endpoints: [clientUrl], timeoutMs: 5000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** The names in the member list of the cluster `clientUrl` belongs to, sorted. */
async function memberNames(clientUrl: string): Promise<string[]> {
  return (await memberList(clientUrl)).map((m) => m.name).sort();
}

/** `etcdns discovery show TOKEN --json`, parsed. */
async function showToken(s: DiscoveryService, token: string) {
  const shown = await etcdnsCli([
    "discovery",
    "show",
    token,
    "-conf",
    s.srv.corefilePath,
    "--json",
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  return JSON.parse(shown.stdout);
}

/**
 * Runs `body` with a discovery service and a list it adds the members it starts to; prints
 * their output and etcdns's if it fails; stops them all at the end.
 */
async function withMembers(
  body: (s: DiscoveryService, members: EtcdMember[]) => Promise<void>,
): Promise<void> {
  const s = await discoveryService();
  const members: EtcdMember[] = [];
  try {
    await body(s, members);
  } catch (err) {
    for (const m of members) console.error(`--- ${m.name}:\n${m.output().slice(-3000)}`);
    console.error(`--- etcdns:\n${s.srv.output}`);
    throw err;
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await s.close();
  }
}

Deno.test({
  name: "discovery: three etcd 3.4 members bootstrap through etcdns; a fourth is proxied or exits",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMembers(async (s, members) => {
      const token = await newToken(s.srv.corefilePath, 3);
      const url = `${s.base}/${token}`;
      for (const name of ["m1", "m2", "m3"]) {
        members.push(await startMember("etcd", name, ["--discovery", url]));
      }
      await waitHealthy(members);
      assert.deepEqual(await memberNames(members[0].clientUrl), ["m1", "m2", "m3"]);
      // One cluster: each member reports the same cluster ID and sees the others' writes.
      await withClient(members[0].clientUrl, (c) => putText(c, "bootstrapped", "yes"));
      for (const m of members) {
        assert.equal(await withClient(m.clientUrl, (c) => getText(c, "bootstrapped")), "yes");
      }
      assert.equal(await memberCount(s, token), 3);

      // A fourth member with the same token: etcd's client finds the cluster full before it
      // registers, and (default --discovery-fallback proxy) starts as a proxy.
      const fourth = await startMember("etcd", "m4", ["--discovery", url]);
      members.push(fourth);
      await waitFor(
        "m4 to fall back to proxy",
        () => {
          const out = fourth.output();
          if (/falling back to proxy|discovery cluster full/.test(out)) return true;
          if (fourth.exited()) throw new Error(`m4 exited:\n${out}`);
          return false;
        },
        30_000,
        100,
      );
      // With --discovery-fallback exit, the same member exits non-zero, naming the reason.
      const fifth = await startMember("etcd", "m5", [
        "--discovery",
        url,
        "--discovery-fallback",
        "exit",
      ]);
      members.push(fifth);
      const status = await waitFor("m5 to exit", () => fifth.exited(), 30_000, 100);
      assert.notEqual(status.code, 0);
      assert.match(fifth.output(), /cluster is full/);
      assert.equal(await memberCount(s, token), 3, "registrations never exceed the size");
      assert.equal((await memberNames(members[0].clientUrl)).length, 3);

      // `show` agrees.
      const info = await showToken(s, token);
      assert.equal(info.size, 3);
      assert.equal(info.registered, 3);
      assert.equal(info.expected, 0);
      assert.ok(info.ttl > 3000 && info.ttl <= 3600, `ttl ${info.ttl}`);
    }),
});

Deno.test({
  name: "discovery: bad requests get v2's status codes and write nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const s = await discoveryService();
    const client = s.etcd.client();
    try {
      const token = await newToken(s.srv.corefilePath, 2);
      const put = (path: string, body: BodyInit, query = "?prevExist=false") =>
        fetch(`${s.base}${path}${query}`, {
          method: "PUT",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body,
        });
      /** Sends a request (after taking the snapshot); expects `status`, v2 `errorCode`, no write. */
      const expectNothingWritten = async (
        what: string,
        send: () => Promise<Response>,
        status: number,
        errorCode: number | null,
      ) => {
        const before = await snapshot(client);
        const r = await send();
        const text = await r.text();
        assert.equal(r.status, status, `${what}: ${text}`);
        if (errorCode !== null) assert.equal(JSON.parse(text).errorCode, errorCode, what);
        assert.deepEqual(await snapshot(client), before, `${what} wrote something`);
      };

      const member = `/${token}/8e9e05c52164694d`;
      const peer = "value=a%3Dhttp%3A%2F%2F127.0.0.1%3A2380";
      const tenMegabytes = () => new Uint8Array(10 * 1024 * 1024).fill(0x61);
      // A streamed body with no Content-Length is cut at the cap too.
      const streamed = () =>
        new ReadableStream<Uint8Array>({
          start(ctrl) {
            for (let i = 0; i < 160; i++) ctrl.enqueue(new Uint8Array(64 * 1024).fill(0x61));
            ctrl.close();
          },
        });
      const get = (path: string, init?: RequestInit) => fetch(`${s.base}${path}`, init);
      const badRequests: [string, () => Promise<Response>, number, number | null][] = [
        ["GET unknown token", () => get("/nosuchtoken/_config/size"), 404, 100],
        ["PUT unknown token", () => put("/nosuchtoken/8e9e05c52164694d", peer), 404, 100],
        ["GET /", () => get("/"), 400, 209],
        ["malformed token", () => get("/bad!token"), 400, 209],
        ["malformed member id", () => put(`/${token}/NOT-HEX`, peer), 400, 209],
        ["too deep", () => put(`${member}/x`, peer), 400, 209],
        ["malformed value", () => put(member, "value=nonsense"), 400, 209],
        ["no value", () => put(member, "other=1"), 400, 200],
        ["prevExist=true", () => put(member, peer, "?prevExist=true"), 400, 209],
        ["bad waitIndex", () => get(`/${token}?wait=true&waitIndex=abc`), 400, 203],
        ["bad boolean", () => get(`/${token}?recursive=maybe`), 400, 209],
        ["size is read-only", () => put(`/${token}/_config/size`, "value=5", ""), 403, 106],
        ["DELETE", () => get(`/${token}`, { method: "DELETE" }), 405, null],
        ["a 10 MB body", () => put(member, tenMegabytes()), 413, 210],
        ["a streamed 10 MB body", () => put(member, streamed()), 413, 210],
      ];
      for (const [what, send, status, errorCode] of badRequests) {
        await expectNothingWritten(what, send, status, errorCode);
      }

      // Two registrations fill the token; the same ID again is 412; a third is refused (403).
      const ok1 = await put(`/${token}/1`, peer);
      assert.equal(ok1.status, 201, await ok1.text());
      await expectNothingWritten("same member again", () => put(`/${token}/1`, peer), 412, 105);
      const ok2 = await put(`/${token}/2`, "value=b%3Dhttp%3A%2F%2F127.0.0.1%3A2381");
      assert.equal(ok2.status, 201, await ok2.text());
      await expectNothingWritten(
        "registration past the size",
        () => put(`/${token}/3`, "value=c%3Dhttp%3A%2F%2F127.0.0.1%3A2382"),
        403,
        103,
      );

      // Racing registrations on a fresh token: exactly `size` win, whatever the interleaving.
      const raced = await newToken(s.srv.corefilePath, 3);
      const results = await Promise.all(
        Array.from(
          { length: 12 },
          (_, i) =>
            put(
              `/${raced}/${(i + 10).toString(16)}`,
              `value=n${i}%3Dhttp%3A%2F%2F127.0.0.1%3A${3000 + i}`,
            )
              .then(async (r) => (await r.body?.cancel(), r.status)),
        ),
      );
      assert.equal(results.filter((x) => x === 201).length, 3, `statuses ${results}`);
      assert.equal(results.filter((x) => x === 403).length, 9, `statuses ${results}`);
      assert.equal(await memberCount(s, raced), 3);

      // A wait from an index that was compacted away is v2's 400 / 401.
      const rev = await s.etcd.compact();
      assert.ok(rev > 2);
      await expectNothingWritten(
        "compacted waitIndex",
        () => get(`/${raced}?wait=true&recursive=true&waitIndex=1`),
        400,
        401,
      );
      // delete removes the token; then it is unknown.
      const del = await etcdnsCli(["discovery", "delete", raced, "-conf", s.srv.corefilePath]);
      assert.equal(del.code, 0, del.stderr);
      const gone = await fetch(`${s.base}/${raced}`);
      assert.equal(gone.status, 404);
      await gone.body?.cancel();

      // A graceful stop answers a held wait (503: the client retries elsewhere or later) rather
      // than waiting for it: etcdns exits promptly and cleanly.
      const held = fetch(`${s.base}/${token}?wait=true&recursive=true`).then(
        async (r) => (await r.body?.cancel(), r.status),
        () => "closed",
      );
      const probe = await fetch(`${s.base}/${token}/_config/size`);
      assert.equal(probe.status, 200);
      await probe.body?.cancel();
      const started = Date.now();
      const status = await s.srv.stop(20_000);
      assert.equal(status.code, 0, s.srv.output);
      assert.ok(Date.now() - started < 10_000, `stop took ${Date.now() - started} ms`);
      assert.ok([503, "closed"].includes(await held), `held wait got ${await held}`);
    } finally {
      await s.close();
    }
  },
});

const ETCD37 = etcd37Binary();

Deno.test({
  name:
    "discovery: three etcd 3.7 members bootstrap with v3 discovery after 'etcdns discovery new'",
  ignore: ETCD37 === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withMembers(async (s, members) => {
      const out = await etcdnsCli(["discovery", "new", "--size", "3", "-conf", s.srv.corefilePath]);
      assert.equal(out.code, 0, out.stderr);
      // The printed line is pasted as it is.
      const line = out.stdout.split("\n").find((l) => l.startsWith("--discovery-token "));
      assert.ok(line, out.stdout);
      const flags = line.split(" ");
      assert.deepEqual(flags.slice(2), ["--discovery-endpoints", s.etcd.endpoint]);
      const token = flags[1];
      for (const name of ["n1", "n2", "n3"]) members.push(await startMember(ETCD37!, name, flags));
      await waitHealthy(members);
      assert.deepEqual(await memberNames(members[2].clientUrl), ["n1", "n2", "n3"]);
      assert.equal(await memberCount(s, token), 3);
      assert.equal((await showToken(s, token)).registered, 3);
    }),
});

if (ETCD37 === null) {
  console.warn(
    "discovery_test: skipping the etcd 3.7 test: no etcd 3.7 binary; set ETCD37_BIN or run `scripts/peers etcd37`",
  );
}
