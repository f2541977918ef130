/** hosts setup: our equivalents of CoreDNS plugin/hosts setup_test.go, plus our own checks. */
import assert from "node:assert/strict";
import { CorefileError } from "../../../src/corefile/types.ts";
import { HostsPlugin } from "../../../src/plugins/hosts/handler.ts";
import { setupHosts } from "../../../src/plugins/hosts/setup.ts";
import { HostsFileSource } from "../../../src/plugins/hosts/source.ts";
import { setUp } from "./_helpers.ts";

function parse(body: string, keys = ".") {
  const h = setUp(setupHosts, `${keys} {\n${body}\n}\n`, "hosts");
  const p = h.plugin as HostsPlugin;
  return { h, p, source: p.source as HostsFileSource };
}

function refuses(body: string, line: number, text: string): void {
  assert.throws(() => parse(body), (err: unknown) => {
    assert.ok(err instanceof CorefileError, String(err));
    assert.match(err.message, new RegExp(`^Corefile:${line} - plugin/hosts: `));
    assert.ok(err.message.includes(text), err.message);
    return true;
  });
}

Deno.test("hosts setup: file, zones and fallthrough (CoreDNS TestHostsParse)", async () => {
  const cases: [string, string, string[], string[]][] = [
    ["hosts", "/etc/hosts", ["."], []],
    ["hosts /tmp", "/tmp", ["."], []],
    ["hosts /etc/hosts miek.nl.", "/etc/hosts", ["miek.nl."], []],
    ["hosts /etc/hosts miek.nl. pun.gent.", "/etc/hosts", ["miek.nl.", "pun.gent."], []],
    ["hosts {\n fallthrough\n}", "/etc/hosts", ["."], ["."]],
    ["hosts /tmp {\n fallthrough\n}", "/tmp", ["."], ["."]],
    ["hosts /etc/hosts miek.nl. {\n fallthrough\n}", "/etc/hosts", ["miek.nl."], ["."]],
    [
      "hosts /etc/hosts miek.nl 10.0.0.9/8 {\n fallthrough\n}",
      "/etc/hosts",
      ["miek.nl.", "10.in-addr.arpa."],
      ["."],
    ],
  ];
  for (const [body, path, zones, fall] of cases) {
    const { h, p, source } = parse(body);
    assert.equal(source.options.path, path, body);
    assert.deepEqual(p.options.zones, zones, body);
    assert.deepEqual(p.options.fallthrough.zones, fall, body);
    assert.equal(p.options.ttl, 3600);
    assert.equal(source.options.reloadMs, 5000);
    await h.close();
  }
});

Deno.test("hosts setup: inline entries (CoreDNS TestHostsInlineParse)", async () => {
  const a = parse(
    "hosts highly_unlikely_to_exist_hosts_file example.org {\n10.0.0.1 example.org\nfallthrough\n}",
  );
  assert.deepEqual(a.source.table.ptr.get("1.0.0.10.in-addr.arpa."), ["example.org."]);
  assert.deepEqual(a.p.options.fallthrough.zones, ["."]);
  const b = parse(
    "hosts highly_unlikely_to_exist_hosts_file example.org {\n10.0.0.1 example.org\n}",
  );
  assert.deepEqual(b.source.table.v4.get("example.org."), ["10.0.0.1"]);
  assert.deepEqual(b.p.options.fallthrough.zones, []);
  // After fallthrough, an inline line is an unknown property, as in CoreDNS.
  refuses(
    "hosts nofile example.org {\nfallthrough\n10.0.0.1 example.org\n}",
    4,
    "unknown property '10.0.0.1'",
  );
  await a.h.close();
  await b.h.close();
});

Deno.test("hosts setup: ttl, no_reverse, reload, and errors with FILE:LINE", async () => {
  const { h, p, source } = parse("hosts /x {\nttl 60\nno_reverse\nreload 0\n}");
  assert.equal(p.options.ttl, 60);
  assert.equal(source.options.reverse, false);
  assert.equal(source.options.reloadMs, 0);
  await h.close();
  const r = parse("hosts /x {\nreload 1m30s\n}");
  assert.equal(r.source.options.reloadMs, 90_000);
  await r.h.close();

  refuses("hosts /x {\nttl 0\n}", 3, "ttl must be between 1 and 65535");
  refuses("hosts /x {\nttl 70000\n}", 3, "ttl");
  refuses("hosts /x {\nttl abc\n}", 3, "ttl must be a whole number");
  refuses("hosts /x {\nttl\n}", 3, "'ttl' takes 1 argument");
  refuses("hosts /x {\nreload -1s\n}", 3, "negative");
  refuses("hosts /x {\nreload soon\n}", 3, "duration");
  refuses("hosts /x {\nno_reverse yes\n}", 3, "'no_reverse' takes 0 arguments");
  refuses("hosts /x {\nfallthrough\nbogus\n}", 4, "unknown property 'bogus'");
  refuses("hosts /x {\nbogus 1\n}", 3, "unknown property 'bogus'");
  refuses("hosts /x {\n10.0.0.1\n}", 3, "no host name");
  refuses("hosts /x {\n10.0.0.1 bad!name\n}", 3, "not a valid host name");
});
