/** The foundation end to end: a real etcdns process, queried with dig and raw sockets. */
import assert from "node:assert/strict";
import { dig, digShort } from "../helpers/dig.ts";
import { udpExchange } from "../helpers/dns_client.ts";
import { START, startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { waitFor } from "../helpers/wait.ts";
import { Rcode, rcodeOf } from "../../src/dns/message.ts";

Deno.test("whoami answers over UDP and TCP, and log writes CoreDNS's line", async () => {
  const srv = await startEtcdns({ corefile: ".:{PORT} {\n    log\n    whoami\n}\n" });
  try {
    const udp = await dig(srv.port, "example.org", "A");
    assert.equal(udp.status, "NOERROR");
    assert.ok(udp.flags.includes("aa"));
    assert.match(udp.stdout, /example\.org\.\s+0\s+IN\s+A\s+127\.0\.0\.1/);
    assert.match(udp.stdout, /_udp\.example\.org\.\s+0\s+IN\s+SRV\s+0 0 \d+ \./);
    const tcp = await dig(srv.port, "+tcp", "example.org", "A");
    assert.match(tcp.stdout, /_tcp\.example\.org\.\s+0\s+IN\s+SRV/);
    const line = await srv.waitForLine(/"A IN example\.org\. tcp/);
    assert.match(
      line,
      /^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN example\.org\. tcp \d+ false \d+" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/,
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("a zone that is not served gets REFUSED", async () => {
  const srv = await startEtcdns({ corefile: "example.org:{PORT} {\n    whoami\n}\n" });
  try {
    assert.equal((await dig(srv.port, "example.net")).status, "REFUSED");
    assert.equal((await dig(srv.port, "www.example.org")).status, "NOERROR");
  } finally {
    await srv.stop();
  }
});

Deno.test("garbage gets FORMERR and the server keeps answering", async () => {
  const srv = await startEtcdns();
  try {
    const garbage = new Uint8Array([0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, 1]);
    const reply = await udpExchange(srv.port, garbage);
    assert.ok(reply, "a FORMERR reply");
    assert.equal(reply[3] & 0xf, Rcode.FORMERR);
    assert.equal((await dig(srv.port, "example.org")).status, "NOERROR");
  } finally {
    await srv.stop();
  }
});

Deno.test("BADVERS for EDNS version 1, NOTIMP for an UPDATE", async () => {
  const srv = await startEtcdns();
  try {
    const bad = parseReply(
      (await udpExchange(srv.port, makeQuery("x.org", "A", { edns: 1232, ednsVersion: 1 })))!,
    );
    assert.equal(rcodeOf(bad), Rcode.BADVERS);
    const update = parseReply(
      (await udpExchange(srv.port, makeQuery("x.org", "A", { flags: 5 << 11 })))!,
    );
    assert.equal(rcodeOf(update), Rcode.NOTIMP);
  } finally {
    await srv.stop();
  }
});

Deno.test("-dns.port sets the port of keys without one", async () => {
  const port = freePort();
  const srv = await startEtcdns({
    corefile: ". {\n    whoami\n}\n",
    args: ["-dns.port", String(port)],
  });
  try {
    assert.deepEqual(await digShort(port, "example.org"), []);
    assert.equal((await dig(port, "example.org")).status, "NOERROR");
  } finally {
    await srv.stop();
  }
});

Deno.test("SIGUSR1 reloads a changed port; a broken Corefile keeps the old config", async () => {
  const srv = await startEtcdns();
  const newPort = freePort();
  try {
    srv.writeCorefile(`.:${newPort} {\n    whoami\n}\n`);
    srv.signal("SIGUSR1");
    await waitFor(
      "the new port to answer",
      async () => (await dig(newPort, "a.org")).status === "NOERROR",
    );
    await waitFor(
      "the old port to close",
      async () => (await dig(srv.port, "a.org")).status === null,
    );

    srv.writeCorefile(`.:${newPort} {\n    whoami\n    nonsense\n}\n`);
    srv.signal("SIGUSR1");
    await srv.waitForLine(/reload failed.*Unknown directive 'nonsense'/);
    assert.equal((await dig(newPort, "a.org")).status, "NOERROR");
  } finally {
    await srv.stop();
  }
});

Deno.test("SIGTERM stops gracefully with exit code 0 and removes the pidfile", async () => {
  const dir = await Deno.makeTempDir();
  const pidfile = `${dir}/etcdns.pid`;
  const srv = await startEtcdns({ args: ["-pidfile", pidfile] });
  try {
    assert.equal(Deno.readTextFileSync(pidfile).trim(), String(srv.pid));
    const status = await srv.stop();
    assert.equal(status.code, 0);
    assert.throws(() => Deno.statSync(pidfile));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad Corefile stops the start with FILE:LINE and exit 1", async () => {
  const srv = await startEtcdns({
    corefile: ".:{PORT} {\n    whoami\n    bogus arg\n}\n",
    waitReady: false,
  });
  const status = await srv.wait();
  await srv.stop();
  assert.equal(status.code, 1);
  assert.match(srv.output, /Corefile:3 - Unknown directive 'bogus'/);
});

Deno.test("-version and -plugins print and exit", async () => {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(START, { args, stdout: "piped", stderr: "piped" }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stdout) };
  };
  const version = await run("-version");
  assert.equal(version.code, 0);
  assert.match(version.text, /^etcdns-\d+\.\d+\.\d+\n\w+\/\w+, deno /);
  const plugins = await run("-plugins");
  assert.match(plugins.text, /dns\.reload[\s\S]*dns\.whoami/);
  const bad = await new Deno.Command(START, { args: ["-nope"], stderr: "piped" }).output();
  assert.equal(bad.code, 2);
});

Deno.test("etcdns check validates, lists keys and chain order, and --json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good`;
    Deno.writeTextFileSync(good, "example.org:1053 example.net {\n    whoami\n    log\n}\n");
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(START, { args, stdout: "piped", stderr: "piped" })
        .output();
      const dec = new TextDecoder();
      return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
    };
    const plain = await run("check", "-conf", good);
    assert.equal(plain.code, 0, plain.err);
    assert.match(
      plain.out,
      /dns:\/\/example\.org\.:1053 dns:\/\/example\.net\.:53\n\s+log, whoami/,
    );
    const json = await run("check", "-conf", good, "--json");
    assert.deepEqual(JSON.parse(json.out), [{
      keys: ["dns://example.org.:1053", "dns://example.net.:53"],
      directives: ["log", "whoami"],
    }]);
    const broken = `${dir}/broken`;
    Deno.writeTextFileSync(
      broken,
      "example.org {\n    whoami\n    log {\n        class nope\n    }\n}\n",
    );
    const bad = await run("check", "-conf", broken);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /broken:4 - plugin\/log: unknown class 'nope'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a large answer is truncated with TC over UDP and whole over TCP", async () => {
  const lines = Array.from({ length: 60 }, (_, i) => `        10.0.${i}.1 big.example.org`);
  const srv = await startEtcdns({
    corefile: `.:{PORT} {\n    hosts {\n${lines.join("\n")}\n    }\n}\n`,
  });
  try {
    const udp = await dig(srv.port, "+ignore", "+noedns", "big.example.org", "A");
    assert.ok(udp.flags.includes("tc"), udp.stdout);
    const tcp = await dig(srv.port, "+tcp", "+short", "big.example.org", "A");
    assert.equal(tcp.stdout.trim().split("\n").length, 60);
  } finally {
    await srv.stop();
  }
});
