/** hosts answering: our equivalents of CoreDNS plugin/hosts hosts_test.go, plus reloads. */
import assert from "node:assert/strict";
import { Rcode } from "../../../src/dns/message.ts";
import { setupHosts } from "../../../src/plugins/hosts/setup.ts";
import { HostsPlugin } from "../../../src/plugins/hosts/handler.ts";
import { HostsFileSource } from "../../../src/plugins/hosts/source.ts";
import { waitFor } from "../../helpers/wait.ts";
import { ask, type Harness, records, setUp } from "./_helpers.ts";

const hostsExample = `
127.0.0.1 localhost localhost.domain
::1 localhost localhost.domain
10.0.0.1 example.org
::FFFF:10.0.0.2 example.com
`;

async function withHosts(
  text: string,
  body: string,
  fn: (h: Harness, path: string) => Promise<void>,
  keys = ".",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-hosts-" });
  const path = `${dir}/hosts`;
  await Deno.writeTextFile(path, text);
  const h = setUp(setupHosts, `${keys} {\nhosts ${path} ${body}\n}\n`, "hosts");
  try {
    await h.start();
    await fn(h, path);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("hosts: CoreDNS TestLookupA cases", async () => {
  await withHosts(hostsExample, "", async (h) => {
    const p = h.plugin;
    assert.deepEqual(records(await ask(p, "example.org.", "A")), ["example.org 3600 A 10.0.0.1"]);
    assert.deepEqual(records(await ask(p, "example.com.", "A")), ["example.com 3600 A 10.0.0.2"]);
    assert.deepEqual(records(await ask(p, "localhost.", "AAAA")), ["localhost 3600 AAAA ::1"]);
    assert.deepEqual(records(await ask(p, "1.0.0.10.in-addr.arpa.", "PTR")), [
      "1.0.0.10.in-addr.arpa 3600 PTR example.org",
    ]);
    assert.deepEqual(records(await ask(p, "2.0.0.10.in-addr.arpa.", "PTR")), [
      "2.0.0.10.in-addr.arpa 3600 PTR example.com",
    ]);
    assert.deepEqual(records(await ask(p, "1.0.0.127.in-addr.arpa.", "PTR")), [
      "1.0.0.127.in-addr.arpa 3600 PTR localhost",
      "1.0.0.127.in-addr.arpa 3600 PTR localhost.domain",
    ]);
    // NODATA: the name exists, not with this type. NOERROR, empty, authoritative.
    for (const type of ["AAAA", "MX"]) {
      const a = await ask(p, "example.org.", type);
      assert.equal(a.rcode, Rcode.NOERROR, type);
      assert.equal(a.passed, false);
      assert.deepEqual(a.reply?.answers, []);
      assert.ok((a.reply!.flags & 0x0400) !== 0, "AA set");
    }
  });
});

Deno.test("hosts: unknown names get SERVFAIL, or fall through where configured", async () => {
  await withHosts(hostsExample, "", async (h) => {
    const a = await ask(h.plugin, "nothere.org.", "A");
    assert.equal(a.rcode, Rcode.SERVFAIL);
    assert.equal(a.passed, false);
    // An address with no entry always goes on (CoreDNS ignores fallthrough for PTR).
    assert.equal((await ask(h.plugin, "9.9.9.9.in-addr.arpa.", "PTR")).passed, true);
  });
  await withHosts(hostsExample, "{\nfallthrough org\n}", async (h) => {
    assert.equal((await ask(h.plugin, "nothere.org.", "A")).passed, true);
    const other = await ask(h.plugin, "nothere.net.", "A");
    assert.equal(other.passed, false);
    assert.equal(other.rcode, Rcode.SERVFAIL);
    // Known names never fall through, even with the other family.
    assert.equal((await ask(h.plugin, "example.org.", "AAAA")).passed, false);
  });
});

Deno.test("hosts: names outside the zones pass on; names are case-insensitive; ttl applies", async () => {
  const text = "10.0.0.1 a.example.org b.example.net\n10.0.0.2 A.Example.Org\n";
  await withHosts(text, "example.org {\nttl 30\n}", async (h) => {
    assert.deepEqual(records(await ask(h.plugin, "A.EXAMPLE.org.", "A")), [
      "a.example.org 30 A 10.0.0.1",
      "a.example.org 30 A 10.0.0.2",
    ]);
    const out = await ask(h.plugin, "b.example.net.", "A");
    assert.equal(out.passed, true, "out of zone: next plugin, whatever fallthrough says");
    // b.example.net was dropped at load, so the reverse lists only the in-zone name.
    assert.deepEqual(records(await ask(h.plugin, "1.0.0.10.in-addr.arpa.", "PTR")), [
      "1.0.0.10.in-addr.arpa 30 PTR a.example.org",
    ]);
  });
});

Deno.test("hosts: no_reverse answers no PTR", async () => {
  await withHosts(hostsExample, "{\nno_reverse\n}", async (h) => {
    assert.equal((await ask(h.plugin, "1.0.0.10.in-addr.arpa.", "PTR")).passed, true);
    assert.equal(records(await ask(h.plugin, "example.org.", "A")).length, 1);
  });
});

Deno.test("hosts: file entries come before inline ones", async () => {
  await withHosts("10.0.0.1 x\n", "{\n10.0.0.9 x\n10.0.0.1 x\n}", async (h) => {
    assert.deepEqual(records(await ask(h.plugin, "x.", "A")), [
      "x 3600 A 10.0.0.1",
      "x 3600 A 10.0.0.9",
    ]);
  });
});

Deno.test("hosts: reloads a changed file; a deleted file keeps the last data", async () => {
  await withHosts("10.0.0.1 x\n", "{\nreload 50ms\n}", async (h, path) => {
    assert.deepEqual(records(await ask(h.plugin, "x.", "A")), ["x 3600 A 10.0.0.1"]);
    await Deno.writeTextFile(path, "10.0.0.2 x\n10.0.0.3 y\n");
    await waitFor(
      "the new file",
      async () => records(await ask(h.plugin, "y.", "A")).length === 1,
      5000,
    );
    assert.deepEqual(records(await ask(h.plugin, "x.", "A")), ["x 3600 A 10.0.0.2"]);
    await Deno.remove(path);
    const source = (h.plugin as HostsPlugin).source as HostsFileSource;
    await source.check();
    assert.deepEqual(records(await ask(h.plugin, "x.", "A")), ["x 3600 A 10.0.0.2"]);
  });
});

Deno.test("hosts: a missing file serves the inline entries and loads once it appears", async () => {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-hosts-" });
  const path = `${dir}/later`;
  const h = setUp(
    setupHosts,
    `. {\nhosts ${path} {\n10.0.0.9 inline\nreload 50ms\n}\n}\n`,
    "hosts",
  );
  try {
    await h.start();
    assert.deepEqual(records(await ask(h.plugin, "inline.", "A")), ["inline 3600 A 10.0.0.9"]);
    assert.equal((await ask(h.plugin, "later.", "A")).rcode, Rcode.SERVFAIL);
    await Deno.writeTextFile(path, "10.0.0.5 later\n");
    await waitFor(
      "the file",
      async () => records(await ask(h.plugin, "later.", "A")).length === 1,
      5000,
    );
    assert.deepEqual(records(await ask(h.plugin, "inline.", "A")), ["inline 3600 A 10.0.0.9"]);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hosts: a wildcard line answers one label below it, with the asked name, as CoreDNS", async () => {
  const text = "10.0.0.7 *.wild.example.org\n10.0.0.8 exact.wild.example.org\n";
  await withHosts(text, "", async (h) => {
    assert.deepEqual(records(await ask(h.plugin, "Web.wild.example.org.", "A")), [
      "web.wild.example.org 3600 A 10.0.0.7",
    ]);
    assert.deepEqual(records(await ask(h.plugin, "exact.wild.example.org.", "A")), [
      "exact.wild.example.org 3600 A 10.0.0.8",
    ]);
    const nodata = await ask(h.plugin, "web.wild.example.org.", "AAAA");
    assert.equal(nodata.rcode, Rcode.NOERROR);
    assert.deepEqual(nodata.reply?.answers, []);
    assert.equal((await ask(h.plugin, "a.b.wild.example.org.", "A")).rcode, Rcode.SERVFAIL);
    assert.equal((await ask(h.plugin, "7.0.0.10.in-addr.arpa.", "PTR")).passed, true);
  });
});
