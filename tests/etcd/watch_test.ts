import { memoryLog } from "../helpers/memory_log.ts";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { deleteKey, putText, rangePrefix, startEtcd } from "../helpers/etcd.ts";
import { connectEtcd } from "../../src/etcd/client.ts";
import { defaultEtcdOptions } from "../../src/etcd/options.ts";
import { prefixEnd, ResilientWatch, type WatchEvent } from "../../src/etcd/watch.ts";

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("prefixEnd covers exactly the prefix", () => {
  assert.deepEqual([...prefixEnd("ab")], [...Buffer.from("ac")]);
  assert.deepEqual([...prefixEnd(new Uint8Array([0x61, 0xff]))], [0x62]);
  assert.deepEqual([...prefixEnd(new Uint8Array([0xff]))], [0]);
});

Deno.test("ResilientWatch delivers, resumes after an etcd restart and resyncs after compaction", async () => {
  const etcd = await startEtcd();
  const opts = { ...defaultEtcdOptions(), endpoints: [etcd.endpoint], timeoutMs: 2000 };
  const client = await connectEtcd(opts);
  const log = memoryLog();
  const view = new Map<string, string>();
  let resyncs = 0;
  const resync = async () => {
    resyncs++;
    const res = await rangePrefix(client, "/w/");
    view.clear();
    for (const kv of res.kvs) view.set(kv.key.toString(), kv.value.toString());
    return Number(res.header.revision);
  };
  const watch = new ResilientWatch({
    client,
    key: "/w/",
    rangeEnd: prefixEnd("/w/"),
    onEvents(events: WatchEvent[]) {
      for (const e of events) {
        if (e.type === "put") view.set(e.key, Buffer.from(e.value).toString());
        else view.delete(e.key);
      }
    },
    onResync: resync,
    log,
    name: "test",
    progressIntervalMs: 500,
    maxBackoffMs: 300,
  });
  try {
    await putText(client, "/w/a", "1");
    await putText(client, "/x/outside", "no");
    watch.start();
    await until("first read", () => view.get("/w/a") === "1");
    await until("connected", () => watch.connected);
    await putText(client, "/w/b", "2");
    await deleteKey(client, "/w/a");
    await until("events", () => view.get("/w/b") === "2" && !view.has("/w/a"));
    assert.equal(view.has("/x/outside"), false);
    assert.equal(resyncs, 1);

    // Outage: changes made while the watch is down are replayed from the last revision.
    await etcd.stop();
    await until("disconnect noticed", () => !watch.connected);
    await etcd.start();
    const other = etcd.client();
    await putText(other, "/w/c", "3");
    await until("resumed", () => view.get("/w/c") === "3", 15_000);
    assert.equal(resyncs, 1, "a plain reconnect resumes without a re-read");

    // A frozen etcd: the stream stays open but silent; progress checks must notice.
    await etcd.pause();
    await until("silence noticed", () => log.lines.some((l) => l.includes("silent")), 10_000);
    etcd.resume();
    await putText(other, "/w/e", "6");
    await until("alive again", () => view.get("/w/e") === "6", 15_000);

    // Watching from a compacted revision: the watch must re-read instead.
    await putText(other, "/w/d", "4");
    await putText(other, "/w/d", "5");
    await etcd.compact();
    resyncs = 0;
    const late = new ResilientWatch({
      client,
      key: "/w/",
      rangeEnd: prefixEnd("/w/"),
      onEvents() {},
      onResync: resync,
      log,
      name: "late",
    });
    late.start(1);
    await until("resynced", () => resyncs === 1 && late.connected, 15_000);
    await late.close();
    assert.equal(view.get("/w/d"), "5");
    assert.ok(log.lines.some((l) => l.includes("compacted")));
  } catch (err) {
    console.log(log.lines.join("\n"));
    throw err;
  } finally {
    await watch.close();
    client.close();
    await etcd.close();
  }
});
