/**
 * workers end to end: with `workers 2` and `spread always` a real etcdns answers on both threads
 * (queries from many source ports, which SO_REUSEPORT spreads over the threads); with the default
 * `spread auto` the main thread serves a light load alone and starts the others when it gets
 * busy; /metrics counts every thread's
 * queries, a change of the hosts file, of the hosts file in etcd and of the Corefile reaches
 * every thread, idetcd claims one slot per node, and shutdown is clean. With `workers 1` the
 * main thread serves alone.
 */
import assert from "node:assert/strict";
import { putText, startEtcd } from "../helpers/etcd.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { udpExchange } from "../helpers/dns_client.ts";
import { PATTERN, slotValues, waitClaimed } from "../helpers/idetcd.ts";
import { dnsperf } from "../../scripts/bench/dnsperf.ts";
import { freePort } from "../helpers/ports.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { waitFor } from "../helpers/wait.ts";
import { parsePrometheus, samplesOf, sampleSum } from "../plugins/prometheus/_parse.ts";

/** Asks `name` from `count` fresh sockets (so many source ports); returns each reply's A data. */
async function askFromManyPorts(port: number, name: string, count: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, async () => {
      const reply = await udpExchange(port, makeQuery(name), 3000);
      if (reply === null) return "(no reply)";
      const m = parseReply(reply);
      // whoami answers in the additional section, as CoreDNS's does.
      const records = [...m.answers, ...m.additionals].filter((r) => r.type === "A");
      return records.map((a) => String(a.data)).join(",") || "(empty)";
    });
    answers.push(...await Promise.all(batch));
  }
  return answers;
}

async function scrape(port: number) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return parsePrometheus(await res.text());
}

Deno.test("workers: two threads answer, count, follow changes and reloads, stop cleanly", async () => {
  const etcd = await startEtcd();
  const prom = freePort();
  const ready = freePort();
  const dir = await Deno.makeTempDir({ prefix: "etcdns-workers-e2e-" });
  const hostsFile = `${dir}/hosts`;
  await Deno.writeTextFile(hostsFile, "10.0.0.1 file.example.\n");
  await putText(etcd.client(), "/etcdhosts", "10.1.0.1 etcd.example.\n");
  const corefile = (more: string) =>
    `. {
    bind 127.0.0.1
    workers 2 {
        spread always
    }
    prometheus 127.0.0.1:${prom}
    ready 127.0.0.1:${ready}
    idetcd tf.local {
        endpoint ${etcd.endpoint}
        limit 3
        lease 5
        pattern ${PATTERN}
        address 127.0.0.2
        fallthrough
    }
    etcdhosts etcd.example {
        endpoint ${etcd.endpoint}
        fallthrough
    }
    hosts ${hostsFile} {
        reload 300ms
    }
}
${more}`.replaceAll(/^\. \{/gm, ".:{PORT} {");
  const srv = await startEtcdns({ corefile: corefile(""), timeoutMs: 30_000 });
  try {
    const port = srv.port;
    const slot = await waitClaimed(srv);
    const res = await fetch(`http://127.0.0.1:${ready}/ready`);
    assert.equal(res.status, 200, await res.text());

    // Every query is answered, and both threads answered some of them.
    const first = await askFromManyPorts(port, "file.example", 200);
    assert.deepEqual(new Set(first), new Set(["10.0.0.1"]));
    let m = await scrape(prom);
    const total = sampleSum(m, "coredns_dns_requests_total");
    assert.equal(total, 200, "coredns_dns_requests_total counts every thread's queries");
    const perThread = samplesOf(m, "etcdns_thread_dns_requests_total");
    assert.deepEqual(perThread.map((s) => s.labels.thread).sort(), ["0", "1"]);
    for (const s of perThread) assert.ok(s.value > 0, `thread ${s.labels.thread} answered`);
    assert.equal(perThread.reduce((n, s) => n + s.value, 0), total);

    // idetcd: one slot for the node, and every thread answers its name.
    assert.equal((await slotValues(etcd.client())).size, 1, "one slot per node");
    const name = `worker${slot}.tf.local`;
    assert.deepEqual(new Set(await askFromManyPorts(port, name, 60)), new Set(["127.0.0.2"]));

    // A changed hosts file and a changed hosts file in etcd reach every thread.
    await Deno.writeTextFile(hostsFile, "10.0.0.2 file.example.\n");
    await putText(etcd.client(), "/etcdhosts", "10.1.0.2 etcd.example.\n");
    await waitFor("every thread to serve the new file", async () => {
      const got = new Set(await askFromManyPorts(port, "file.example", 60));
      return got.size === 1 && got.has("10.0.0.2");
    }, 10_000);
    await waitFor("every thread to serve the new etcd value", async () => {
      const got = new Set(await askFromManyPorts(port, "etcd.example", 60));
      return got.size === 1 && got.has("10.1.0.2");
    }, 10_000);

    // A reload reaches every thread; a broken Corefile leaves every thread on the old one.
    srv.writeCorefile(corefile("new.example:{PORT} {\n    bind 127.0.0.1\n    whoami\n}\n"));
    srv.signal("SIGUSR1");
    await srv.waitForLine(/reload complete/, 15_000);
    const fresh = await askFromManyPorts(port, "new.example", 60);
    assert.ok(fresh.every((a) => a === "127.0.0.1"), `every thread serves the new block: ${fresh}`);
    srv.writeCorefile(corefile("broken.example:{PORT} {\n    workers 3\n}\n"));
    srv.signal("SIGUSR1");
    await srv.waitForLine(/reload failed, still serving the previous config/, 15_000);
    assert.ok((await askFromManyPorts(port, "new.example", 30)).every((a) => a === "127.0.0.1"));

    m = await scrape(prom);
    assert.equal(
      sampleSum(m, "coredns_dns_requests_total"),
      sampleSum(m, "etcdns_thread_dns_requests_total"),
    );

    // Shutdown: both threads stop, the slot is released at once, the exit is clean.
    const status = await srv.stop(10_000);
    assert.equal(status.code, 0, srv.output);
    assert.equal((await slotValues(etcd.client())).size, 0, "the slot is released");
  } finally {
    await srv.stop();
    await etcd.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("workers: workers 1 serves from the main thread alone", async () => {
  const prom = freePort();
  const srv = await startEtcdns({
    corefile:
      `.:{PORT} {\n    bind 127.0.0.1\n    workers 1\n    prometheus 127.0.0.1:${prom}\n    whoami\n}\n`,
  });
  try {
    const answers = await askFromManyPorts(srv.port, "example.org", 50);
    assert.ok(answers.every((a) => a === "127.0.0.1"), answers.join(" "));
    const m = await scrape(prom);
    assert.equal(sampleSum(m, "coredns_dns_requests_total"), 50);
    assert.equal(samplesOf(m, "etcdns_thread_dns_requests_total").length, 0);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output);
  }
});

Deno.test("workers: without the native socket, one thread serves, and the log says why", async () => {
  const prom = freePort();
  const corefile = (workers: string) =>
    `.:{PORT} {\n    bind 127.0.0.1\n    ${workers}\n    prometheus 127.0.0.1:${prom}\n    whoami\n}\n`;
  for (
    const [setting, line] of [
      ["", /\[INFO\] etcdns: serving with one thread on Deno's UDP socket: ETCDNS_UDP=deno/],
      [
        "workers 2",
        /\[WARNING\] etcdns: plugin\/workers: 2 workers need SO_REUSEPORT .*one thread/,
      ],
    ] as const
  ) {
    const srv = await startEtcdns({ corefile: corefile(setting), env: { ETCDNS_UDP: "deno" } });
    try {
      await srv.waitForLine(line);
      const answers = await askFromManyPorts(srv.port, "example.org", 40);
      assert.ok(answers.every((a) => a === "127.0.0.1"), answers.join(" "));
      const m = await scrape(prom);
      assert.equal(sampleSum(m, "coredns_dns_requests_total"), 40);
      assert.equal(samplesOf(m, "etcdns_thread_dns_requests_total").length, 0);
    } finally {
      assert.equal((await srv.stop()).code, 0, srv.output);
    }
  }
});

/** etcdns with whoami on two threads and the defaults (`spread auto`), /metrics on `prom`. */
function startWhoami(prom: number) {
  const corefile = `.:{PORT} {
    bind 127.0.0.1
    workers 2
    prometheus 127.0.0.1:${prom}
    whoami
}
`;
  return startEtcdns({ corefile, timeoutMs: 30_000 });
}

Deno.test("workers: by default a light load is served by the main thread alone, the others wait", async () => {
  const prom = freePort();
  const srv = await startWhoami(prom);
  try {
    const answers = await askFromManyPorts(srv.port, "light.example", 200);
    assert.ok(answers.every((a) => a === "127.0.0.1"), `every query answered: ${answers}`);
    // The other thread has not even started: /metrics has no per-thread series yet.
    const m = await scrape(prom);
    assert.equal(sampleSum(m, "coredns_dns_requests_total"), 200);
    assert.deepEqual(samplesOf(m, "etcdns_thread_dns_requests_total"), []);
  } finally {
    await srv.stop();
  }
});

Deno.test("workers: a busy main thread starts the waiting threads, which then answer too", async () => {
  const prom = freePort();
  const srv = await startWhoami(prom);
  try {
    const threads = async () =>
      samplesOf(await scrape(prom), "etcdns_thread_dns_requests_total")
        .filter((s) => s.value > 0).map((s) => s.labels.thread).sort();
    await askFromManyPorts(srv.port, "light.example", 50);
    assert.deepEqual(await threads(), [], "a light load: the second thread is not started");
    // dnsperf as fast as the server answers, from 8 source ports, for a few seconds (bounded).
    const queriesFile = await Deno.makeTempFile({ suffix: ".queries" });
    await Deno.writeTextFile(queriesFile, "busy.example A\n");
    const load = dnsperf({ port: srv.port, queriesFile, seconds: 5, rate: 500_000 });
    try {
      await srv.waitForLine(/the main thread is busy: starting 1 more thread to serve UDP/, 10_000);
      await waitFor(
        "the second thread to answer",
        async () => (await threads()).length === 2,
        10_000,
      );
    } finally {
      await load;
      await Deno.remove(queriesFile);
    }
    const answers = await askFromManyPorts(srv.port, "after.example", 50);
    assert.ok(answers.every((a) => a === "127.0.0.1"), `every query answered: ${answers}`);
  } finally {
    await srv.stop();
  }
});
