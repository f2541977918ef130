/** etcdhosts setup: properties, defaults and errors (FILE:LINE), without etcd. */
import assert from "node:assert/strict";
import { CorefileError } from "../../../src/corefile/types.ts";
import { EtcdHostsPlugin } from "../../../src/plugins/etcdhosts/handler.ts";
import { parseEtcdHosts, setupEtcdHosts } from "../../../src/plugins/etcdhosts/setup.ts";
import { directiveOf, setUp } from "../hosts/_helpers.ts";

function parse(body: string, keys = ".") {
  const { block, d } = directiveOf(`${keys} {\n${body}\n}\n`, "etcdhosts");
  return parseEtcdHosts(d, block.keys.map((k) => k.zone));
}

function refuses(body: string, line: number, text: string): void {
  assert.throws(() => parse(body), (err: unknown) => {
    assert.ok(err instanceof CorefileError, String(err));
    assert.match(err.message, new RegExp(`^Corefile:${line} - plugin/etcdhosts: `));
    assert.ok(err.message.includes(text), err.message);
    return true;
  });
}

Deno.test("etcdhosts setup: defaults as etcdhosts v1", () => {
  const c = parse("etcdhosts", "example.org");
  assert.deepEqual(c.zones, ["example.org."]);
  assert.equal(c.key, "/etcdhosts");
  assert.equal(c.ttl, 3600);
  assert.equal(c.reverse, true);
  assert.deepEqual(c.fallthrough.zones, []);
  assert.deepEqual(c.etcd.endpoints, ["http://localhost:2379"]);
  assert.equal(c.etcd.timeoutMs, 3000);
  assert.equal(c.forceReloadMs, 0);
});

Deno.test("etcdhosts setup: the seed's block", () => {
  const c = parse(
    "etcdhosts . {\n fallthrough .\n key /etcdhosts\n timeout 5s\n endpoint http://127.0.0.1:2379\n}",
  );
  assert.deepEqual(c.zones, ["."]);
  assert.deepEqual(c.fallthrough.zones, ["."]);
  assert.equal(c.etcd.timeoutMs, 5000);
  assert.deepEqual(c.etcd.endpoints, ["http://127.0.0.1:2379"]);
});

Deno.test("etcdhosts setup: every property", () => {
  const c = parse(
    [
      "etcdhosts example.org 10.0.0.0/8 {",
      "  10.0.0.1 inline.example.org",
      "  ttl 60",
      "  no_reverse",
      "  key /hosts/a",
      "  endpoint https://10.0.0.1:2379 https://10.0.0.2:2379",
      "  credentials root secret",
      "  tls cert.pem key.pem ca.pem",
      "  timeout 2s",
      "  force_reload 1m",
      "  fallthrough example.org",
      "}",
    ].join("\n"),
  );
  assert.deepEqual(c.zones, ["example.org.", "10.in-addr.arpa."]);
  assert.equal(c.ttl, 60);
  assert.equal(c.reverse, false);
  assert.equal(c.key, "/hosts/a");
  assert.deepEqual(c.etcd.endpoints, ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]);
  assert.equal(c.etcd.username, "root");
  assert.equal(c.etcd.password, "secret");
  assert.deepEqual(c.etcd.tls, { cert: "cert.pem", key: "key.pem", ca: "ca.pem" });
  assert.equal(c.etcd.timeoutMs, 2000);
  assert.equal(c.forceReloadMs, 60_000);
  assert.deepEqual(c.fallthrough.zones, ["example.org."]);
  assert.equal(c.inline.length, 1);
  assert.deepEqual(c.inline[0].names, ["inline.example.org."]);
});

Deno.test("etcdhosts setup: errors carry FILE:LINE", () => {
  refuses("etcdhosts {\nttl 0\n}", 3, "ttl must be between 1 and 65535");
  refuses("etcdhosts {\nkey\n}", 3, "'key' takes 1 argument");
  refuses("etcdhosts {\nkey a b\n}", 3, "'key' takes 1 argument");
  refuses("etcdhosts {\nendpoint\n}", 3, "'endpoint' takes at least 1 argument");
  refuses("etcdhosts {\nendpoint ftp://x:1\n}", 3, "scheme 'ftp'");
  refuses("etcdhosts {\ncredentials root\n}", 3, "'credentials' takes 2 arguments");
  refuses("etcdhosts {\ntimeout soon\n}", 3, "duration");
  refuses("etcdhosts {\nforce_reload -1s\n}", 3, "negative");
  refuses("etcdhosts {\nforce_reload 1ms\n}", 3, "at least 100ms");
  // As in the original: after fallthrough, an unknown line is an error...
  refuses("etcdhosts {\nfallthrough\nbogus\n}", 4, "unknown property 'bogus'");
  refuses("etcdhosts {\nfallthrough\n10.0.0.1 a\n}", 4, "unknown property '10.0.0.1'");
  // ...and before it, a line that is not a hosts entry is one too.
  refuses("etcdhosts {\nbogus x\n}", 3, "unknown property 'bogus'");
  refuses("etcdhosts {\n10.0.0.1\n}", 3, "no host name");
  refuses("etcdhosts {\nkey /a {\n}\n}", 3, "takes no block");
});

Deno.test("etcdhosts setup: registers readiness and shares one source per identical block", async () => {
  const h = setUp(
    setupEtcdHosts,
    ". {\netcdhosts {\nendpoint http://127.0.0.1:1\n}\n}\n",
    "etcdhosts",
  );
  assert.ok(h.plugin instanceof EtcdHostsPlugin);
  assert.deepEqual(h.readiness.notReady(), ["etcdhosts"]);
  await h.close();
});
