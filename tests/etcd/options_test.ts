import assert from "node:assert/strict";
import type { Directive } from "../../src/corefile/types.ts";
import {
  DEFAULT_ENDPOINT,
  defaultEtcdOptions,
  etcdOptionsKey,
  parseEtcdProperty,
} from "../../src/etcd/options.ts";
import { connectEtcd, resolveEndpoints } from "../../src/etcd/client.ts";

function d(name: string, ...args: string[]): Directive {
  return { name, args, block: null, file: "Corefile", line: 7 };
}

Deno.test("etcd options: defaults", () => {
  const o = defaultEtcdOptions();
  assert.deepEqual(o.endpoints, [DEFAULT_ENDPOINT]);
  assert.equal(o.timeoutMs, 5000);
});

Deno.test("etcd options: endpoint, credentials, tls, timeout", () => {
  const o = defaultEtcdOptions();
  assert.equal(
    parseEtcdProperty(d("endpoint", "http://10.0.0.1:2379", "10.0.0.2:2379"), "x", o),
    true,
  );
  assert.deepEqual(o.endpoints, ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]);
  assert.equal(parseEtcdProperty(d("endpoint", "dns+srv://example.com"), "x", o), true);
  assert.deepEqual(o.endpoints, ["dns+srv://example.com"]);
  parseEtcdProperty(d("credentials", "root", "secret"), "x", o);
  assert.equal(o.username, "root");
  assert.equal(o.password, "secret");
  parseEtcdProperty(d("tls"), "x", o);
  assert.deepEqual(o.tls, {});
  parseEtcdProperty(d("tls", "ca.pem"), "x", o);
  assert.deepEqual(o.tls, { ca: "ca.pem" });
  parseEtcdProperty(d("tls", "c.pem", "k.pem"), "x", o);
  assert.deepEqual(o.tls, { cert: "c.pem", key: "k.pem" });
  parseEtcdProperty(d("tls", "c.pem", "k.pem", "ca.pem"), "x", o);
  assert.deepEqual(o.tls, { cert: "c.pem", key: "k.pem", ca: "ca.pem" });
  parseEtcdProperty(d("timeout", "1500ms"), "x", o);
  assert.equal(o.timeoutMs, 1500);
  assert.equal(parseEtcdProperty(d("limit", "5"), "x", o), false);
});

Deno.test("etcd options: errors name FILE:LINE and the plugin", () => {
  const o = defaultEtcdOptions();
  const cases: [Directive, RegExp][] = [
    [d("endpoint"), /Corefile:7 - plugin\/x: 'endpoint' takes at least 1/],
    [d("endpoint", "ftp://a:1"), /Corefile:7 - plugin\/x: endpoint 'ftp:\/\/a:1' has scheme 'ftp'/],
    [d("endpoint", "http://a:1/v3"), /must not have a path/],
    [d("endpoint", "http://a:1", "https://b:1"), /mix http:\/\/ and https:\/\//],
    [d("endpoint", "dns+srv://a.com:53"), /without a port/],
    [d("credentials", "u"), /'credentials' takes 2 arguments, got 1/],
    [d("tls", "a", "b", "c", "d"), /'tls' takes 0 to 3 arguments/],
    [d("timeout", "soon"), /timeout must be a duration/],
    [d("timeout", "0"), /timeout must be positive/],
  ];
  for (const [dir, re] of cases) assert.throws(() => parseEtcdProperty(dir, "x", o), re);
});

Deno.test("etcd options: equal settings give equal keys", () => {
  const a = defaultEtcdOptions();
  const b = defaultEtcdOptions();
  assert.equal(etcdOptionsKey(a), etcdOptionsKey(b));
  b.timeoutMs = 1;
  assert.notEqual(etcdOptionsKey(a), etcdOptionsKey(b));
});

Deno.test("dns+srv endpoints merge the ssl and plain SRV records", async () => {
  const records: Record<
    string,
    { priority: number; weight: number; port: number; target: string }[]
  > = {
    "_etcd-client-ssl._tcp.a.test": [{ priority: 0, weight: 0, port: 2379, target: "e1.a.test." }],
    "_etcd-client._tcp.b.test": [
      { priority: 10, weight: 0, port: 2379, target: "e3.b.test." },
      { priority: 0, weight: 0, port: 2379, target: "e2.b.test." },
    ],
  };
  const resolveSrv = (name: string) => {
    const r = records[name];
    return r ? Promise.resolve(r) : Promise.reject(new Error("NXDOMAIN"));
  };
  const o = { ...defaultEtcdOptions(), endpoints: ["dns+srv://a.test", "dns+srv://b.test"] };
  assert.deepEqual(await resolveEndpoints({ ...o, endpoints: ["dns+srv://a.test"] }, resolveSrv), [
    "https://e1.a.test:2379",
  ]);
  assert.deepEqual(await resolveEndpoints({ ...o, endpoints: ["dns+srv://b.test"] }, resolveSrv), [
    "http://e2.b.test:2379",
    "http://e3.b.test:2379",
  ]);
  await assert.rejects(
    resolveEndpoints({ ...o, endpoints: ["dns+srv://none.test"] }, resolveSrv),
    /dns\+srv:\/\/none.test: found no SRV records at _etcd-client-ssl._tcp.none.test/,
  );
});

Deno.test("connectEtcd names an unreadable tls file", async () => {
  const o = { ...defaultEtcdOptions(), tls: { ca: "/nonexistent/ca.pem" } };
  await assert.rejects(connectEtcd(o), /cannot read the CA file '\/nonexistent\/ca.pem'/);
});
