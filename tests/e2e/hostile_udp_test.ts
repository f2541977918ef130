/**
 * Hostile and oversized UDP traffic against a real etcdns process (issue 9, items 4-6): forged
 * log lines, amplification through a large EDNS size, and how replies are cut to fit.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { udpExchange, udpSweep } from "../helpers/dns_client.ts";
import { putText, startEtcd } from "../helpers/etcd.ts";
import { startEtcdns, UDP_PATHS } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { waitFor } from "../helpers/wait.ts";
import { Flag, optOf } from "../../src/dns/message.ts";

/** dig's spelling of a name that carries a line feed and spaces. */
const FORGED = "x\\010[error]\\032plugin/idetcd:\\032forged\\032line.example";
/** How CoreDNS (miekg/dns) prints that name, lowercased. */
const FORGED_LOGGED = "x\\010[error]\\ plugin/idetcd:\\ forged\\ line.example.";

/** A query for `name` with an OPT whose UDP size is exactly `size` (0 included). */
function ednsQuery(name: string, size: number): Uint8Array {
  const q = makeQuery(name, "A", { edns: 4096 });
  // The OPT is the last 11 bytes: root, type, then the size (our encoder writes 0 as 4096).
  q[q.length - 8] = size >> 8;
  q[q.length - 7] = size & 0xff;
  return q;
}

/** A hosts block: `n` addresses for `name`. */
function hostsLines(name: string, n: number): string {
  return Array.from({ length: n }, (_, i) => `        10.0.${i >> 8}.${i & 0xff} ${name}\n`)
    .join("");
}

for (const udp of UDP_PATHS) {
  Deno.test(`a forged name gives exactly one log line and one errors line, escaped (udp ${udp})`, async () => {
    const closed = freePort(); // nothing listens there: forward fails, errors logs it
    const srv = await startEtcdns({
      env: { ETCDNS_UDP: udp },
      corefile: `.:{PORT} {\n    errors\n    log\n    forward . 127.0.0.1:${closed} {\n` +
        `        force_tcp\n    }\n}\n`,
    });
    try {
      const r = await dig(srv.port, "+time=8", FORGED, "A");
      assert.equal(r.status, "SERVFAIL", r.stdout);
      const logLine = await srv.waitForLine(/"A IN x\\010/);
      const errLine = await srv.waitForLine(/^\[ERROR\] plugin\/errors: /);
      assert.ok(logLine.startsWith("[INFO] 127.0.0.1:"), logLine);
      assert.ok(logLine.includes(`"A IN ${FORGED_LOGGED} udp `), logLine);
      assert.ok(
        errLine.startsWith(`[ERROR] plugin/errors: SERVFAIL ${FORGED_LOGGED} A: `),
        errLine,
      );
      // Nothing the client sent starts a line: no forged "[error]" line anywhere.
      assert.deepEqual(
        srv.lines.filter((l) => /^\[error\]|^x$|forged/.test(l) && l !== logLine && l !== errLine),
        [],
      );
      assert.equal(srv.lines.filter((l) => l.includes("forged")).length, 2, srv.output);
      console.log(`${logLine}\n${errLine}`);
    } finally {
      await srv.stop();
    }
  });
}

/** Checks every EDNS size in `sizes` against one server: a reply each, none above `cap`. */
async function sweep(port: number, sizes: number[], cap: number): Promise<void> {
  const queries = sizes.map((s) => ednsQuery("big.example", s));
  const started = performance.now();
  const replies = await udpSweep(port, queries, { window: 32, retries: 3, timeoutMs: 2000 });
  const ms = performance.now() - started;
  let unanswered = 0;
  let largest = 0;
  for (let i = 0; i < sizes.length; i++) {
    const reply = replies[i];
    if (reply === null) {
      unanswered++;
      continue;
    }
    largest = Math.max(largest, reply.length);
    const limit = Math.min(Math.max(512, sizes[i]), cap);
    assert.ok(reply.length <= limit, `EDNS ${sizes[i]}: ${reply.length} bytes > ${limit}`);
  }
  assert.equal(unanswered, 0, `${unanswered} of ${sizes.length} queries unanswered`);
  assert.ok(largest > cap - 16, `the cap should be reached (${largest} of ${cap})`);
  console.log(`${sizes.length} EDNS sizes in ${Math.round(ms)} ms; largest reply ${largest} bytes`);
}

for (const udp of UDP_PATHS) {
  Deno.test(`every EDNS size 0..65535 gets a reply of at most 1232 bytes (bufsize 1000: 1000) (udp ${udp})`, async () => {
    const hosts = hostsLines("big.example", 120); // 120 A records: about 2 KB in full
    const srv = await startEtcdns({
      env: { ETCDNS_UDP: udp },
      corefile: `big.example:{PORT} {\n    hosts {\n${hosts}    }\n}\n` +
        `capped.example:{PORT} {\n    bufsize 1000\n    hosts {\n${
          hostsLines("big.capped.example", 120)
        }    }\n}\n`,
    });
    try {
      const all = Array.from({ length: 65536 }, (_, i) => i);
      await sweep(srv.port, all, 1232);
      // The OPT echoes the client's size, as CoreDNS's does; the reply itself stays within 1232.
      const r = parseReply(
        (await udpExchange(srv.port, makeQuery("big.example", "A", { edns: 65535 })))!,
      );
      assert.equal(optOf(r)?.udpPayloadSize, 65535);
      assert.ok((r.flags & Flag.TC) !== 0);

      // bufsize 1000: every size that matters (each around the bounds, and a dense sample).
      const capped = [0, 1, 511, 512, 513, 999, 1000, 1001, 1231, 1232, 1233, 4096, 65507, 65535];
      for (let s = 0; s < 65536; s += 61) capped.push(s);
      const queries = capped.map((s) => ednsQuery("big.capped.example", s));
      const replies = await udpSweep(srv.port, queries, { retries: 3, timeoutMs: 2000 });
      replies.forEach((reply, i) => {
        assert.ok(reply, `EDNS ${capped[i]}: no reply`);
        assert.ok(
          reply.length <= Math.min(Math.max(512, capped[i]), 1000),
          `EDNS ${capped[i]}: ${reply.length}`,
        );
      });
      const c = parseReply(
        (await udpExchange(srv.port, makeQuery("big.capped.example", "A", { edns: 4096 })))!,
      );
      assert.equal(optOf(c)?.udpPayloadSize, 1000);
      // Whole records only, as many as fit: 12 + 23 (question) + 11 (OPT) + 59 x 16 = 990.
      assert.equal(c.answers.length, 59);
    } finally {
      await srv.stop();
    }
  });
}

for (const udp of UDP_PATHS) {
  Deno.test(`31 A records without EDNS: TC and 29 records in 512 bytes, as CoreDNS (udp ${udp})`, async () => {
    const srv = await startEtcdns({
      env: { ETCDNS_UDP: udp },
      corefile: `.:{PORT} {\n    hosts {\n${hostsLines("many.example.org", 31)}    }\n}\n`,
    });
    try {
      const wire = (await udpExchange(srv.port, makeQuery("many.example.org", "A")))!;
      assert.ok(wire.length <= 512, `${wire.length} bytes`);
      const m = parseReply(wire);
      assert.equal(m.answers.length, 29);
      assert.ok((m.flags & Flag.TC) !== 0);
      const d = await dig(srv.port, "+noedns", "+ignore", "many.example.org", "A");
      assert.ok(d.flags.includes("tc"), d.stdout);
      assert.match(d.stdout, /ANSWER: 29,/);
      assert.match(d.stdout, /MSG SIZE {2}rcvd: 498/);
      const tcp = await dig(srv.port, "+tcp", "many.example.org", "A");
      assert.match(tcp.stdout, /ANSWER: 31,/);
    } finally {
      await srv.stop();
    }
  });
}

Deno.test("SRV for 31 nodes: all answers fit, only glue is dropped, so no TC", async () => {
  const etcd = await startEtcd();
  const client = etcd.client();
  let srv;
  try {
    for (let id = 1; id <= 30; id++) {
      await putText(
        client,
        `worker${id}.tf.local.`,
        JSON.stringify({ ipv4: `10.1.0.${id}`, port: "53" }),
      );
    }
    srv = await startEtcdns({
      corefile: `tf.local:{PORT} {\n    idetcd {\n        endpoint ${etcd.endpoint}\n` +
        `        limit 31\n        pattern worker{{.ID}}.tf.local.\n        address 10.1.0.31\n` +
        `        srv _etcd-server._tcp 2380\n    }\n}\n`,
    });
    const query = makeQuery("_etcd-server._tcp.tf.local", "SRV", { edns: 4096 });
    let m = parseReply((await udpExchange(srv.port, query))!);
    await waitFor("31 SRV answers", async () => {
      m = parseReply((await udpExchange(srv!.port, query))!);
      return m.answers.length === 31;
    }, 15_000);
    const wire = (await udpExchange(srv.port, query))!;
    m = parseReply(wire);
    assert.ok(wire.length <= 1232, `${wire.length} bytes`);
    assert.equal(m.answers.length, 31);
    assert.ok(m.additionals.length > 1 && m.additionals.length < 32, `${m.additionals.length}`);
    assert.equal(m.flags & Flag.TC, 0, "only additionals were dropped");
    const d = await dig(srv.port, "+bufsize=4096", "_etcd-server._tcp.tf.local", "SRV");
    assert.ok(!d.flags.includes("tc"), d.stdout);
    assert.match(d.stdout, /ANSWER: 31,/);
    console.log(`SRV x31: ${wire.length} bytes, ${m.additionals.length - 1} of 31 glue records`);
  } finally {
    await srv?.stop();
    client.close();
    await etcd.close();
  }
});
