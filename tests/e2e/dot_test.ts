/**
 * DNS over TLS (RFC 7858) end to end: a real etcdns with a `tls://` block, queried with the real
 * `dig +tls` against a CA made by openssl; a plain-TCP client and a client that never handshakes
 * get no answer and are closed; and, when CoreDNS 1.15 is built, it gives the same answer.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { type EtcdnsProcess, startEtcdns } from "../helpers/etcdns.ts";
import { freePort } from "../helpers/ports.ts";
import { makeQuery, parseReply } from "../helpers/query.ts";
import { makeServerCert, type TestCerts } from "../helpers/tls_certs.ts";
import { waitFor } from "../helpers/wait.ts";
import { TCP_IDLE_TIMEOUT_MS } from "../../src/server/tcp_limits.ts";

const COREDNS = "/root/.cache/etcdns/peers/coredns-v1.15.0";

function corefile(certs: TestCerts, port: number | string): string {
  return `tls://.:${port} {\n    bind 127.0.0.1\n    tls ${certs.cert} ${certs.key}\n    whoami\n    log\n}\n`;
}

/** `dig +tls` trusting only our CA, as a client that verifies the server. */
function digTls(certs: TestCerts, port: number, ...args: string[]) {
  return dig(port, "+tls", `+tls-ca=${certs.ca}`, "+tls-hostname=localhost", ...args);
}

/** Additional-section records of whoami: "name type data" with the client port masked. */
function whoamiRecords(stdout: string): string[] {
  const section = stdout.split(";; ADDITIONAL SECTION:\n")[1] ?? "";
  return section.split("\n\n")[0].split("\n").filter((l) => l.trim() !== "")
    .map((l) => l.split(/\s+/)).map((f) => [f[0], f[3], ...f.slice(4)].join(" "))
    .map((l) => l.replace(/^(\S+ SRV \d+ \d+) \d+/, "$1 PORT"));
}

/** Reads from `conn` until it closes or `ms` pass; returns the bytes and whether it closed. */
async function drain(conn: Deno.Conn, ms: number): Promise<{ bytes: number[]; closed: boolean }> {
  const bytes: number[] = [];
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
  try {
    while (true) {
      const n = await Promise.race([conn.read(buf).catch(() => null), timeout]);
      if (n === "timeout") return { bytes, closed: false };
      if (n === null) return { bytes, closed: true };
      bytes.push(...buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test("DNS over TLS: tls:// blocks answer dig +tls; plain TCP and stalled handshakes get nothing", async (t) => {
  const certs = await makeServerCert();
  let srv: EtcdnsProcess | null = null;
  try {
    srv = await startEtcdns({ corefile: corefile(certs, "{PORT}") });
    const port = srv.port;
    assert.ok(srv.lines.some((l) => l === `tls://.:${port}`), srv.output);

    await t.step("dig +tls gets whoami's answer, and the log says tcp", async () => {
      const r = await digTls(certs, port, "example.org", "A");
      assert.equal(r.status, "NOERROR", r.stdout);
      assert.deepEqual(whoamiRecords(r.stdout), [
        "example.org. A 127.0.0.1",
        "_tcp.example.org. SRV 0 0 PORT .",
      ]);
      await srv!.waitForLine(/"A IN example\.org\. tcp \d+ false \d+" NOERROR qr,aa,rd/);
    });

    await t.step(
      "a client that does not trust the certificate is refused by its own check",
      async () => {
        const r = await dig(port, "+tls", `+tls-ca=${certs.cert}`, "example.org");
        assert.equal(r.status, null, r.stdout);
      },
    );

    await t.step(
      "a Deno.connectTls client with the CA gets an answer over 2-byte framing",
      async () => {
        const conn = await Deno.connectTls({
          hostname: "127.0.0.1",
          port,
          caCerts: [Deno.readTextFileSync(certs.ca)],
          serverName: "localhost",
        } as Deno.ConnectTlsOptions);
        const query = makeQuery("two.example.org", "AAAA");
        const framed = new Uint8Array(2 + query.length);
        new DataView(framed.buffer).setUint16(0, query.length);
        framed.set(query, 2);
        await conn.write(framed);
        // Half-close after the query, as RFC 7766 allows: the reply still comes, then the close.
        await conn.closeWrite();
        const { bytes, closed } = await drain(conn, 5000);
        assert.ok(bytes.length > 2, "a framed reply");
        assert.ok(closed, "the server closes after answering a half-closed client");
        const length = (bytes[0] << 8) | bytes[1];
        const reply = parseReply(new Uint8Array(bytes.slice(2, 2 + length)));
        assert.equal(reply.questions?.[0].name, "two.example.org");
        assert.equal(reply.flags! & 0xf, 0);
      },
    );

    await t.step("a plain TCP DNS client gets no DNS answer", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const query = makeQuery("plain.example.org");
      const framed = new Uint8Array(2 + query.length);
      new DataView(framed.buffer).setUint16(0, query.length);
      framed.set(query, 2);
      await conn.write(framed);
      const { bytes, closed } = await drain(conn, 5000);
      assert.ok(closed, "the server closes the connection");
      // At most a TLS alert (content type 21), never a DNS message.
      assert.ok(bytes.length === 0 || bytes[0] === 21, `got ${bytes.slice(0, 8)}`);
      const r = await dig(port, "+tcp", "plain.example.org");
      assert.equal(r.status, null, r.stdout);
    });

    await t.step("a client that never handshakes does not hold up other clients", async () => {
      const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        for (let i = 0; i < 3; i++) {
          assert.equal((await digTls(certs, port, `next${i}.example.org`)).status, "NOERROR");
        }
      } finally {
        stalled.close();
      }
    });

    // Deno.listenTls could not pass this: its close() waits for the handshake (tls_stream.ts).
    await t.step({
      name: "a client that connects and never handshakes is closed within the deadline",
      fn: async () => {
        const started = performance.now();
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        const { bytes, closed } = await drain(conn, TCP_IDLE_TIMEOUT_MS + 5000);
        const elapsed = performance.now() - started;
        assert.ok(closed, "closed by the server");
        assert.equal(bytes.length, 0);
        assert.ok(elapsed >= TCP_IDLE_TIMEOUT_MS - 1000, `closed after ${elapsed} ms, too early`);
        assert.ok(elapsed <= TCP_IDLE_TIMEOUT_MS + 3000, `closed after ${elapsed} ms`);
        // The server still answers.
        assert.equal((await digTls(certs, port, "after.example.org")).status, "NOERROR");
      },
    });
  } finally {
    await srv?.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test({
  name: "DNS over TLS: CoreDNS 1.15 gives the same whoami answer over DoT",
  ignore: (() => {
    try {
      return !Deno.statSync(COREDNS).isFile;
    } catch {
      return true;
    }
  })(),
  fn: async () => {
    const certs = await makeServerCert();
    const port = freePort();
    Deno.writeTextFileSync(`${certs.dir}/Corefile`, corefile(certs, port));
    const coredns = new Deno.Command(COREDNS, {
      args: ["-conf", `${certs.dir}/Corefile`],
      cwd: certs.dir,
      stdout: "null",
      stderr: "null",
    }).spawn();
    let srv: EtcdnsProcess | null = null;
    try {
      const theirs = await waitFor(
        "CoreDNS to answer over DoT",
        async () => {
          const r = await digTls(certs, port, "example.org", "A");
          return r.status === "NOERROR" ? r : null;
        },
      );
      srv = await startEtcdns({ corefile: corefile(certs, "{PORT}") });
      const ours = await digTls(certs, srv.port, "example.org", "A");
      assert.equal(ours.status, theirs.status);
      assert.deepEqual(ours.flags, theirs.flags);
      assert.deepEqual(whoamiRecords(ours.stdout), whoamiRecords(theirs.stdout));
    } finally {
      coredns.kill("SIGTERM");
      await coredns.status;
      await srv?.stop();
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});
