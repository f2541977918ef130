/**
 * forward to a DNS over TLS upstream (`tls://`): a small DoT server of ours on loopback with a
 * certificate for `dns.test` from a test CA made with openssl. The certificate's name is checked
 * against `tls_servername`; connections are reused; a wrong name is refused with a log line.
 */
import assert from "node:assert/strict";
import { dig } from "../helpers/dig.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { haveCoreDns, startCoreDns } from "../helpers/coredns.ts";
import { decode, encode, Flag, replyTo } from "../../src/dns/message.ts";
import { frame, FrameReader, writeAll } from "../../src/dns/framing.ts";

/** A test CA and a server certificate for `dns.test` (no IP address in it), in `dir`. */
async function makeCerts(dir: string): Promise<void> {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=etcdns test CA",
  );
  await run("req", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=dns.test");
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:dns.test\n");
  await run(
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
}

/** A DoT server answering every A query with 192.0.2.53; counts the TLS connections it accepts. */
class DotServer {
  readonly port: number;
  connections = 0;
  queries = 0;
  readonly #listener: Deno.TlsListener;
  readonly #conns = new Set<Deno.TlsConn>();
  readonly #tasks = new Set<Promise<void>>();

  constructor(cert: string, key: string) {
    this.#listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#track(this.#accept());
  }

  #track(p: Promise<void>): void {
    const t = p.catch(() => {}).finally(() => this.#tasks.delete(t));
    this.#tasks.add(t);
  }

  async #accept(): Promise<void> {
    for await (const conn of this.#listener) {
      this.#conns.add(conn);
      this.#track(this.#serve(conn));
    }
  }

  async #serve(conn: Deno.TlsConn): Promise<void> {
    try {
      await conn.handshake();
      this.connections++;
      const frames = new FrameReader((b) => conn.read(b));
      for (;;) {
        const msg = await frames.next(30_000, 30_000);
        if (msg === null) return;
        this.queries++;
        const req = decode(msg);
        const reply = replyTo(req);
        reply.flags |= Flag.RA;
        const q = req.questions[0];
        if (q.type === "A") {
          reply.answers.push({ type: "A", name: q.name, class: "IN", ttl: 60, data: "192.0.2.53" });
        }
        await writeAll((b) => conn.write(b), frame(encode(reply)));
      }
    } finally {
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }
}

Deno.test("forward: tls:// upstream with tls_servername answers over one reused TLS connection; a wrong name is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-dot-" });
  await makeCerts(dir);
  const dot = new DotServer(
    await Deno.readTextFile(`${dir}/srv.pem`),
    await Deno.readTextFile(`${dir}/srv.key`),
  );
  // `workers 1` for etcdns (one thread: every thread has its own upstream connections, and
  // this counts them); CoreDNS, which has no such directive, gets the rest as it is.
  const corefile = (name: string, threads = "    workers 1\n") =>
    `.:{PORT} {
    bind 127.0.0.1
${threads}    forward . tls://127.0.0.1:${dot.port} {
        tls_servername ${name}
        tls ${dir}/ca.pem
        health_check 0.2s
    }
    errors
}
`;
  const good = await startEtcdns({ corefile: corefile("dns.test") });
  const bad = await startEtcdns({ corefile: corefile("other.test") });
  try {
    for (let i = 0; i < 5; i++) {
      const r = await dig(good.port, `q${i}.example.test`, "A");
      assert.equal(r.status, "NOERROR", r.stdout);
      assert.match(r.stdout, /IN\s+A\s+192\.0\.2\.53/);
    }
    // A UDP client, a TCP client: the upstream is reached over the one cached TLS connection.
    assert.equal((await dig(good.port, "+tcp", "tcp.example.test", "A")).status, "NOERROR");
    assert.equal(dot.connections, 1, "one TLS connection, reused");
    assert.equal(dot.queries, 6);

    const refused = await dig(bad.port, "+time=8", "x.example.test", "A");
    assert.equal(refused.status, "SERVFAIL", refused.stdout);
    // The health check says why, once: the certificate does not carry the name asked for.
    const line = await bad.waitForLine(
      /health check of tls:\/\/127\.0\.0\.1:\d+ failed: .*certificate/,
    );
    assert.match(line, /other\.test/, line);
    assert.equal(dot.queries, 6, "no query goes over a connection that failed its check");

    // CoreDNS, with the same Corefiles, agrees.
    if (haveCoreDns()) {
      for (const [name, want] of [["dns.test", "NOERROR"], ["other.test", "SERVFAIL"]]) {
        const core = await startCoreDns(corefile(name, ""));
        try {
          const r = await dig(core.port, "+time=8", "core.example.test", "A");
          assert.equal(r.status, want, `CoreDNS with tls_servername ${name}: ${r.stdout}`);
        } finally {
          await core.stop();
        }
      }
    }
  } finally {
    await good.stop();
    await bad.stop();
    await dot.close();
    await Deno.remove(dir, { recursive: true });
  }
});
