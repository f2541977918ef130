/**
 * etcdhosts against a real etcd: load at start, watch, keep the last good data on deletion
 * and bad values, etcd down at start, etcd restart, and compaction while disconnected.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Rcode } from "../../../src/dns/message.ts";
import { EtcdHostsPlugin } from "../../../src/plugins/etcdhosts/handler.ts";
import { badLinesGauge, errorsCounter } from "../../../src/plugins/etcdhosts/metrics.ts";
import { setupEtcdHosts } from "../../../src/plugins/etcdhosts/setup.ts";
import { EtcdHostsSource } from "../../../src/plugins/etcdhosts/source.ts";
import { memoryLog } from "../../helpers/memory_log.ts";
import { deleteKey, putText, startEtcd, type TestEtcd } from "../../helpers/etcd.ts";
import { waitFor } from "../../helpers/wait.ts";
import { ask, type Harness, records, setUp } from "../hosts/_helpers.ts";
import { startProxy } from "./_proxy.ts";

function corefile(endpoint: string, key: string, extra = ""): string {
  return `. {\netcdhosts . {\nendpoint ${endpoint}\nkey ${key}\ntimeout 1s\n${extra}\n}\n}\n`;
}

async function a(h: Harness, name: string): Promise<string[]> {
  return (await ask(h.plugin, name, "A")).reply?.answers.map((r) => String(r.data)) ?? [];
}

function source(h: Harness) {
  return (h.plugin as EtcdHostsPlugin).source as EtcdHostsSource;
}

async function withEtcd(fn: (etcd: TestEtcd) => Promise<void>): Promise<void> {
  const etcd = await startEtcd();
  try {
    await fn(etcd);
  } finally {
    await etcd.close();
  }
}

Deno.test("etcdhosts: loads at start, answers as hosts, follows changes", async () => {
  await withEtcd(async (etcd) => {
    const c = etcd.client();
    const key = "/t/load";
    await putText(c, key, "10.0.0.1 web.example.org\n10.0.0.2 web.example.org\n::1 v6only\n");
    const h = setUp(
      setupEtcdHosts,
      corefile(etcd.endpoint, key, "10.9.9.9 inline.example.org"),
      "etcdhosts",
    );
    try {
      await h.start();
      assert.ok(source(h).loaded, "the first read finished within start()");
      assert.deepEqual(h.readiness.notReady(), []);
      assert.deepEqual(await a(h, "WEB.example.org."), ["10.0.0.1", "10.0.0.2"]);
      assert.deepEqual(await a(h, "inline.example.org."), ["10.9.9.9"]);
      const nodata = await ask(h.plugin, "v6only.", "A");
      assert.equal(nodata.rcode, Rcode.NOERROR);
      assert.deepEqual(nodata.reply?.answers, []);
      assert.equal((await ask(h.plugin, "nothere.", "A")).rcode, Rcode.SERVFAIL);
      assert.deepEqual(records(await ask(h.plugin, "1.0.0.10.in-addr.arpa.", "PTR")), [
        "1.0.0.10.in-addr.arpa 3600 PTR web.example.org",
      ]);

      await putText(c, key, "10.0.0.3 web.example.org\n");
      await waitFor(
        "the change",
        async () => (await a(h, "web.example.org.")).join() === "10.0.0.3",
      );
      assert.deepEqual(await a(h, "inline.example.org."), ["10.9.9.9"], "inline entries stay");
    } finally {
      await h.close();
    }
  });
});

Deno.test("etcdhosts: a deleted key, a garbage value and bad lines keep the last good data", async () => {
  await withEtcd(async (etcd) => {
    const c = etcd.client();
    const key = "/t/keep";
    await putText(c, key, "10.0.0.1 a\n10.0.0.2 b\n");
    const h = setUp(setupEtcdHosts, corefile(etcd.endpoint, key), "etcdhosts");
    try {
      await h.start();
      assert.deepEqual(await a(h, "a."), ["10.0.0.1"]);
      const rev = source(h).revision;

      await deleteKey(c, key);
      await waitFor("the delete counted", () => errorsCounter.get([key, "deleted"]) === 1);
      assert.deepEqual(await a(h, "a."), ["10.0.0.1"], "still served after the delete");
      assert.equal(source(h).revision, rev);

      await putText(c, key, Buffer.from([0, 1, 2, 255, 254, 10, 0xc3, 0x28, 10, 7, 7]));
      await waitFor("the garbage rejected", () => errorsCounter.get([key, "rejected"]) === 1);
      assert.deepEqual(await a(h, "a."), ["10.0.0.1"], "still served after garbage");

      await putText(c, key, "10.0.0.5 a\n1.2.3 broken\n10.0.0.6\n");
      await waitFor("the new value", async () => (await a(h, "a.")).join() === "10.0.0.5");
      assert.equal(badLinesGauge.get([key]), 2);
      assert.equal(errorsCounter.get([key, "bad_lines"]), 1);
      assert.equal((await ask(h.plugin, "b.", "A")).rcode, Rcode.SERVFAIL, "b was removed");
    } finally {
      await h.close();
    }
  });
});

Deno.test("etcdhosts: an empty, blank or comment-only value keeps serving, logged once per revision", async () => {
  await withEtcd(async (etcd) => {
    const c = etcd.client();
    const key = "/t/empty";
    await putText(c, key, "10.0.0.1 a\n10.0.0.2 b\n");
    const log = memoryLog();
    const src = new EtcdHostsSource({
      etcd: { endpoints: [etcd.endpoint], timeoutMs: 1000 },
      key,
      zones: ["."],
      reverse: true,
      inline: [],
      forceReloadMs: 0,
      log,
    });
    const served = () => [...(src.table.v4.get("a.") ?? [])];
    try {
      await src.start();
      assert.deepEqual(served(), ["10.0.0.1"]);
      const rev = src.revision;
      const before = errorsCounter.get([key, "rejected"]) ?? 0;
      const values = ["", "  \n\t\n", "# all gone\n  # really\n", "1.2.3 x\n10.0.0.9\n"];
      for (const [i, value] of values.entries()) {
        await putText(c, key, value);
        await waitFor(
          `value ${i} rejected`,
          () => errorsCounter.get([key, "rejected"]) === before + i + 1,
        );
        assert.deepEqual(served(), ["10.0.0.1"], `still served after ${JSON.stringify(value)}`);
        assert.equal(src.revision, rev, "the revision served is unchanged");
      }
      const rejected = log.lines.filter((l) => /no usable line|is empty|only comments/.test(l));
      assert.equal(rejected.length, values.length, rejected.join("\n"));
      assert.match(
        rejected[0],
        /^ERROR key \/t\/empty at revision \d+ is empty; keeping the last good data \(2 entries, revision \d+\)/,
      );
      assert.match(rejected[2], /holds only comments/);
      assert.match(rejected[3], /has no usable line \(2 bad, line 1:/);
      // One usable line (even a placeholder outside the served names) replaces the data.
      await putText(c, key, "# cleared\n127.0.0.1 placeholder.invalid\n");
      await waitFor("the placeholder served", () => served().length === 0);
      assert.deepEqual(src.table.v4.get("placeholder.invalid."), ["127.0.0.1"]);
    } finally {
      await src.close();
    }
  });
});

Deno.test("etcdhosts: an empty value at start serves the inline entries and is ready", async () => {
  await withEtcd(async (etcd) => {
    const key = "/t/empty-start";
    await putText(etcd.client(), key, "# nothing yet\n");
    const h = setUp(setupEtcdHosts, corefile(etcd.endpoint, key, "10.0.0.8 inline"), "etcdhosts");
    try {
      await h.start();
      assert.deepEqual(h.readiness.notReady(), []);
      assert.deepEqual(await a(h, "inline."), ["10.0.0.8"]);
      assert.equal(source(h).revision, 0);
    } finally {
      await h.close();
    }
  });
});

Deno.test("etcdhosts: etcd down at start; start() returns, inline served, loads once etcd is up", async () => {
  await withEtcd(async (etcd) => {
    const key = "/t/down";
    await putText(etcd.client(), key, "10.0.0.7 late\n");
    await etcd.stop();
    const h = setUp(setupEtcdHosts, corefile(etcd.endpoint, key, "10.0.0.8 inline"), "etcdhosts");
    try {
      const t0 = Date.now();
      await h.start();
      assert.ok(Date.now() - t0 < 3500, `start() took ${Date.now() - t0} ms`);
      assert.equal(source(h).loaded, false);
      assert.deepEqual(h.readiness.notReady(), ["etcdhosts"]);
      assert.deepEqual(await a(h, "inline."), ["10.0.0.8"]);
      assert.equal((await ask(h.plugin, "late.", "A")).rcode, Rcode.SERVFAIL);
      await etcd.start();
      await waitFor("the load", async () => (await a(h, "late.")).join() === "10.0.0.7", 20_000);
      assert.deepEqual(h.readiness.notReady(), []);
    } finally {
      await h.close();
    }
  });
});

Deno.test("etcdhosts: the watch resumes after an etcd restart", async () => {
  await withEtcd(async (etcd) => {
    const key = "/t/restart";
    await putText(etcd.client(), key, "10.0.0.1 r\n");
    const h = setUp(setupEtcdHosts, corefile(etcd.endpoint, key), "etcdhosts");
    try {
      await h.start();
      await waitFor("watching", () => source(h).watching);
      await etcd.stop();
      await waitFor("the outage noticed", () => !source(h).watching, 15_000);
      assert.deepEqual(await a(h, "r."), ["10.0.0.1"], "served while etcd is down");
      await etcd.start();
      await waitFor("watching again", () => source(h).watching, 20_000);
      await putText(etcd.client(), key, "10.0.0.2 r\n");
      await waitFor("the change", async () => (await a(h, "r.")).join() === "10.0.0.2");
    } finally {
      await h.close();
    }
  });
});

Deno.test("etcdhosts: catches up after compaction with changes while disconnected", async () => {
  await withEtcd(async (etcd) => {
    const proxy = startProxy(etcd.endpoint);
    const key = "/t/compact";
    const c = etcd.client();
    await putText(c, key, "10.0.0.1 x\n");
    const h = setUp(setupEtcdHosts, corefile(proxy.endpoint, key), "etcdhosts");
    try {
      await h.start();
      await waitFor("watching", () => source(h).watching);
      proxy.cut();
      await waitFor("the cut noticed", () => !source(h).watching, 15_000);
      await putText(c, key, "10.0.0.2 x\n");
      await putText(c, "/t/other", "bump");
      await putText(c, key, "10.0.0.3 x\n");
      await putText(c, "/t/other", "bump again");
      await etcd.compact();
      proxy.restore();
      await waitFor("caught up", async () => (await a(h, "x.")).join() === "10.0.0.3", 20_000);
      await waitFor("watching again", () => source(h).watching, 10_000);
      await putText(c, key, "10.0.0.4 x\n");
      await waitFor("the next change", async () => (await a(h, "x.")).join() === "10.0.0.4");
    } finally {
      await h.close();
      await proxy.close();
    }
  });
});

Deno.test("etcdhosts: a 50,000-entry value loads from etcd (time reported)", async () => {
  await withEtcd(async (etcd) => {
    // etcd refuses requests over 1.5 MiB by default, so this is about the largest file a
    // default etcd takes; tests/hostsfile measures 100,000 entries without etcd.
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      lines.push(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255} h${i}.c`);
    }
    const key = "/t/large";
    await putText(etcd.client(), key, lines.join("\n"));
    const h = setUp(setupEtcdHosts, corefile(etcd.endpoint, key), "etcdhosts");
    try {
      const t0 = performance.now();
      await h.start();
      await waitFor("loaded", () => source(h).loaded);
      console.log(
        `50k entries: read from etcd and loaded in ${(performance.now() - t0).toFixed(0)} ms`,
      );
      assert.equal(source(h).table.size, 50_000);
      assert.deepEqual(await a(h, "h49999.c."), ["10.0.195.79"]);
    } finally {
      await h.close();
    }
  });
});
