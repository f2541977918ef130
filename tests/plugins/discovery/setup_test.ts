/** The discovery block's syntax, and the request and value checks that need no etcd. */
import assert from "node:assert/strict";
import { parseCorefile } from "../../../src/corefile/mod.ts";
import { CorefileError } from "../../../src/corefile/types.ts";
import { parseTarget } from "../../../src/plugins/discovery/v2.ts";
import { parseDiscovery } from "../../../src/plugins/discovery/setup.ts";
import { checkMemberValue, TokenLayout } from "../../../src/plugins/discovery/store.ts";

function parse(body: string) {
  const { blocks } = parseCorefile(`. {\n${body}\n}\n`, { file: "Corefile" });
  return parseDiscovery(blocks[0].directives[0]);
}

function fails(body: string, text: RegExp): void {
  assert.throws(() => parse(body), (err: unknown) => {
    assert.ok(err instanceof CorefileError, String(err));
    assert.match(err.message, /^Corefile:\d+ - plugin\/discovery: /);
    assert.match(err.message, text);
    return true;
  });
}

Deno.test("discovery: defaults are loopback 2382, etcd's v3 prefix, a week, localhost:2379", () => {
  const c = parse("discovery");
  assert.equal(c.address.text, "127.0.0.1:2382");
  assert.equal(c.address.host, "127.0.0.1");
  assert.equal(c.prefix, "/_etcd/registry");
  assert.equal(c.ttlSeconds, 7 * 24 * 3600);
  assert.deepEqual(c.etcd.endpoints, ["http://localhost:2379"]);
});

Deno.test("discovery: the etcd settings parser, prefix and ttl", () => {
  const c = parse(`discovery [::1]:9000 {
    endpoint https://10.0.0.1:2379 https://10.0.0.2:2379
    credentials root secret
    tls cert.pem key.pem ca.pem
    timeout 2s
    prefix /tokens/
    ttl 24h
}`);
  assert.equal(c.address.host, "::1");
  assert.equal(c.address.port, 9000);
  assert.deepEqual(c.etcd.endpoints, ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]);
  assert.equal(c.etcd.username, "root");
  assert.deepEqual(c.etcd.tls, { cert: "cert.pem", key: "key.pem", ca: "ca.pem" });
  assert.equal(c.etcd.timeoutMs, 2000);
  assert.equal(c.prefix, "/tokens");
  assert.equal(c.ttlSeconds, 86400);
});

Deno.test("discovery: mistakes name the line and what was expected", () => {
  fails("discovery a b", /takes 0 to 1 argument, got 2/);
  fails("discovery nonsense", /not an address/);
  fails("discovery {\n  ttl 10s\n}", /ttl must be at least 1m/);
  fails("discovery {\n  ttl soon\n}", /duration/);
  fails("discovery {\n  prefix tokens\n}", /must start with '\/'/);
  fails("discovery {\n  endpoint ftp://x\n}", /scheme 'ftp'/);
  fails("discovery {\n  size 3\n}", /unknown property 'size'/);
});

Deno.test("discovery: request paths map onto token, config, size and member targets", () => {
  assert.deepEqual(parseTarget("/abc"), { kind: "token", token: "abc" });
  assert.deepEqual(parseTarget("/abc/"), { kind: "token", token: "abc" });
  assert.deepEqual(parseTarget("/abc/_config"), { kind: "config", token: "abc" });
  assert.deepEqual(parseTarget("/abc/_config/size"), { kind: "size", token: "abc" });
  assert.deepEqual(parseTarget("/abc/8e9e05c52164694d"), {
    kind: "member",
    token: "abc",
    id: "8e9e05c52164694d",
  });
  for (const bad of ["/", "/_x", "/a b", "/abc/XYZ", "/abc/1/2", "/abc/%zz", "/../etc"]) {
    assert.throws(() => parseTarget(bad), /Invalid field|Key not found/, bad);
  }
});

Deno.test("discovery: registration values are etcd's NAME=PEER_URL list", () => {
  assert.equal(checkMemberValue("m1=http://10.0.0.1:2380"), null);
  assert.equal(checkMemberValue("m1=https://a:2380,m1=https://b:2380"), null);
  for (
    const bad of ["", "m1", "=http://a:1", "m1=", "m1=nonsense", "m 1=http://a:1", "m1=ftp://a:1"]
  ) {
    assert.notEqual(checkMemberValue(bad), null, bad);
  }
  assert.notEqual(checkMemberValue(`m=http://a:1,${"x".repeat(5000)}`), null);
});

Deno.test("discovery: the v3 layout is etcd 3.6+'s, and only its keys show in v2", () => {
  const l = new TokenLayout();
  assert.equal(l.sizeKey("t"), "/_etcd/registry/t/_config/size");
  assert.equal(l.memberKey("t", "ab"), "/_etcd/registry/t/members/ab");
  assert.equal(l.v2Key("t", "/_etcd/registry/t/_config/size"), "/t/_config/size");
  assert.equal(l.v2Key("t", "/_etcd/registry/t/members/ab"), "/t/ab");
  assert.equal(l.v2Key("t", "/_etcd/registry/t/other"), null);
  assert.equal(l.v2Key("t", "/_etcd/registry/t/members/NOTHEX"), null);
});
