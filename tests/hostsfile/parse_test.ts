/**
 * Parsing and lookups, our equivalents of CoreDNS plugin/hosts hostsfile_test.go
 * (TestLookupStaticHost, TestLookupStaticAddr) plus the strict/lenient modes.
 */
import assert from "node:assert/strict";
import {
  HostsSyntaxError,
  HostsTable,
  parseHosts,
  parseHostsStrict,
  parseIp,
  reverseName,
} from "../../src/hostsfile/mod.ts";

function table(text: string, zones: string[] = ["."], reverse = true): HostsTable {
  return HostsTable.build([parseHosts(text, { zones }).records], { reverse });
}

const hosts = `255.255.255.255	broadcasthost
	127.0.0.2	odin
	127.0.0.3	odin  # inline comment
	::2             odin
	127.1.1.1	thor
	# aliases
	127.1.1.2	ullr ullrhost
	fe80::1%lo0	localhost
	# Bogus entries that must be ignored.
	123.123.123	loki
	321.321.321.321`;
const singlelinehosts = `127.0.0.2  odin`;
const ipv4hosts = `# See https://tools.ietf.org/html/rfc1123.
	#

	# internet address and host name
	127.0.0.1	localhost	# inline comment separated by tab
	127.0.0.2	localhost       # inline comment separated by space

	# internet address, host name and aliases
	127.0.0.3	localhost	localhost.localdomain`;
const ipv6hosts = `# See https://tools.ietf.org/html/rfc5952, https://tools.ietf.org/html/rfc4007.

	# internet address and host name
	::1						localhost	# inline comment separated by tab
	fe80:0000:0000:0000:0000:0000:0000:0001		localhost       # inline comment separated by space

	# internet address with zone identifier and host name
	fe80:0000:0000:0000:0000:0000:0000:0002%lo0	localhost

	# internet address, host name and aliases
	fe80::3%lo0					localhost	localhost.localdomain`;
const casehosts = `127.0.0.1	PreserveMe	PreserveMe.local
		::1		PreserveMe	PreserveMe.local`;

const staticHostTests: [string, [string, string[], string[]][]][] = [
  [hosts, [
    ["odin.", ["127.0.0.2", "127.0.0.3"], ["::2"]],
    ["thor.", ["127.1.1.1"], []],
    ["ullr.", ["127.1.1.2"], []],
    ["ullrhost.", ["127.1.1.2"], []],
    ["localhost.", [], ["fe80::1"]],
  ]],
  [singlelinehosts, [["odin.", ["127.0.0.2"], []]]],
  [ipv4hosts, [
    ["localhost.", ["127.0.0.1", "127.0.0.2", "127.0.0.3"], []],
    ["localhost.localdomain.", ["127.0.0.3"], []],
  ]],
  [ipv6hosts, [
    ["localhost.", [], ["::1", "fe80::1", "fe80::2", "fe80::3"]],
    ["localhost.localdomain.", [], ["fe80::3"]],
  ]],
  [casehosts, [
    ["PreserveMe.", ["127.0.0.1"], ["::1"]],
    ["PreserveMe.local.", ["127.0.0.1"], ["::1"]],
  ]],
];

Deno.test("lookup by name (CoreDNS TestLookupStaticHost)", () => {
  for (const [file, entries] of staticHostTests) {
    const t = table(file);
    for (const [name, v4, v6] of entries) {
      // The query path lowercases and qualifies names; every spelling must find the entry.
      for (const spelling of [name, name.slice(0, -1), name.toLowerCase(), name.toUpperCase()]) {
        const key = (spelling.endsWith(".") ? spelling : spelling + ".").toLowerCase();
        assert.deepEqual([...(t.v4.get(key) ?? [])], v4, `A ${spelling}`);
        assert.deepEqual([...(t.v6.get(key) ?? [])], v6, `AAAA ${spelling}`);
      }
    }
  }
});

const staticAddrTests: [string, [string, string[]][]][] = [
  [hosts, [
    ["255.255.255.255", ["broadcasthost."]],
    ["127.0.0.2", ["odin."]],
    ["127.0.0.3", ["odin."]],
    ["::2", ["odin."]],
    ["127.1.1.1", ["thor."]],
    ["127.1.1.2", ["ullr.", "ullrhost."]],
    ["fe80::1", ["localhost."]],
  ]],
  [singlelinehosts, [["127.0.0.2", ["odin."]]]],
  [ipv4hosts, [
    ["127.0.0.1", ["localhost."]],
    ["127.0.0.2", ["localhost."]],
    ["127.0.0.3", ["localhost.", "localhost.localdomain."]],
  ]],
  [ipv6hosts, [
    ["::1", ["localhost."]],
    ["fe80::1", ["localhost."]],
    ["fe80::2", ["localhost."]],
    ["fe80::3", ["localhost.", "localhost.localdomain."]],
  ]],
  [casehosts, [
    ["127.0.0.1", ["preserveme.", "preserveme.local."]],
    ["::1", ["preserveme.", "preserveme.local."]],
  ]],
];

Deno.test("lookup by address (CoreDNS TestLookupStaticAddr)", () => {
  for (const [file, entries] of staticAddrTests) {
    const t = table(file);
    for (const [addr, names] of entries) {
      assert.deepEqual([...(t.ptr.get(reverseName(parseIp(addr)!)) ?? [])], names, addr);
    }
  }
});

Deno.test("no_reverse builds no PTR map", () => {
  const t = table(hosts, ["."], false);
  assert.equal(t.ptr.size, 0);
  assert.deepEqual(t.v4.get("odin."), ["127.0.0.2", "127.0.0.3"]);
});

Deno.test("names outside the zones are dropped, silently", () => {
  const { records, problems } = parseHosts(
    "10.0.0.1 a.example.org b.example.com\n10.0.0.2 c.example.com\n",
    { zones: ["example.org."] },
  );
  assert.deepEqual(problems, []);
  assert.equal(records.length, 1);
  assert.deepEqual(records[0].names, ["a.example.org."]);
});

Deno.test("several IPs per name keep file order; duplicates collapse", () => {
  const t = table("10.0.0.3 x\n10.0.0.1 x\n10.0.0.2 x X.\n10.0.0.1 x\n");
  assert.deepEqual(t.v4.get("x."), ["10.0.0.3", "10.0.0.1", "10.0.0.2"]);
  assert.equal(t.size, 3);
  assert.deepEqual(t.ptr.get("1.0.0.10.in-addr.arpa."), ["x."]);
});

Deno.test("IPv4-mapped IPv6 answers A, and its PTR is the IPv4 one", () => {
  const t = table("::FFFF:10.0.0.2 example.com\n");
  assert.deepEqual(t.v4.get("example.com."), ["10.0.0.2"]);
  assert.equal(t.v6.get("example.com."), undefined);
  assert.deepEqual(t.ptr.get("2.0.0.10.in-addr.arpa."), ["example.com."]);
});

Deno.test("lenient: bad lines are skipped and reported with their numbers", () => {
  const text = [
    "10.0.0.1 good", // 1
    "123.123.123 loki", // 2 bad IP
    "10.0.0.2", // 3 no name
    "10.0.0.3 bad!name", // 4 bad name
    "# comment", // 5
    "", // 6
    "10.0.0.4 ok\u0000junk", // 7 binary
    "\uFFFD\uFFFD 1", // 8 invalid UTF-8
    "10.0.0.5 also-good # trailing", // 9
    "garbage", // 10
  ].join("\n");
  const { records, problems } = parseHosts(text);
  assert.deepEqual(records.map((r) => [r.line, r.ip.text, r.names]), [
    [1, "10.0.0.1", ["good."]],
    [9, "10.0.0.5", ["also-good."]],
  ]);
  assert.deepEqual(problems.map((p) => p.line), [2, 3, 4, 7, 8, 10]);
  assert.match(problems[0].reason, /'123\.123\.123' is not an IPv4 or IPv6 address/);
  assert.match(problems[1].reason, /no host name/);
  assert.match(problems[2].reason, /bad!name/);
  assert.match(problems[3].reason, /binary/);
});

Deno.test("strict: throws one error listing every bad line", () => {
  assert.deepEqual(parseHostsStrict("10.0.0.1 a\n", "f").length, 1);
  assert.throws(
    () => parseHostsStrict("10.0.0.1 a\n1.2.3 b\n10.0.0.1\n", "hosts.txt"),
    (err: unknown) => {
      assert.ok(err instanceof HostsSyntaxError);
      assert.deepEqual(err.problems.map((p) => p.line), [2, 3]);
      assert.match(err.message, /^hosts\.txt:2: .*\nhosts\.txt:3: /);
      return true;
    },
  );
});

Deno.test("CRLF line ends, a BOM and tabs are fine", () => {
  const { records, problems } = parseHosts("\uFEFF10.0.0.1\ta\r\n10.0.0.2  b\tc\r\n");
  assert.deepEqual(problems, []);
  assert.deepEqual(records.map((r) => r.names), [["a."], ["b.", "c."]]);
});

Deno.test("100,000 entries load (time is reported, not asserted)", () => {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(
      i % 10 === 0
        ? `fd00::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)} host${i}.example.org`
        : `${ip} host${i}.example.org h${i}`,
    );
  }
  const text = lines.join("\n") + "\n";
  const t0 = performance.now();
  const parsed = parseHosts(text, { zones: ["."] });
  const t1 = performance.now();
  const t = HostsTable.build([parsed.records], { reverse: true });
  const t2 = performance.now();
  assert.equal(parsed.problems.length, 0);
  assert.equal(parsed.records.length, 100_000);
  assert.deepEqual(t.v4.get("host99999.example.org."), ["10.1.134.159"]);
  assert.deepEqual(t.v6.get("host99990.example.org."), ["fd00::1:8696"]);
  console.log(
    `100k-entry hosts file (${(text.length / 1e6).toFixed(1)} MB): parse ${
      (t1 - t0).toFixed(0)
    } ms, ` +
      `table ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms`,
  );
});

Deno.test("an IPv4 entry (plain or ::ffff:) has PTR in in-addr.arpa and ::ffff: ip6.arpa form", () => {
  const t = table("::ffff:10.0.0.5 mapped.example.\n10.0.0.9 plain.example.\n");
  assert.deepEqual(t.ptr.get("5.0.0.10.in-addr.arpa."), ["mapped.example."]);
  assert.deepEqual(
    t.ptr.get("5.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."),
    ["mapped.example."],
  );
  assert.deepEqual(
    t.ptr.get("9.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."),
    ["plain.example."],
  );
  assert.deepEqual(t.v4.get("mapped.example."), ["10.0.0.5"]);
  assert.equal(t.v6.get("mapped.example."), undefined);
});

Deno.test("a wildcard line covers names one label below it, never itself or deeper; no PTR", () => {
  const t = table(
    "10.0.0.7 *.wild.example.test\n10.0.0.8 exact.wild.example.test\n::7 *.wild.example.test",
  );
  assert.deepEqual(t.addresses(4, "a.wild.example.test."), ["10.0.0.7"]);
  assert.deepEqual(t.addresses(6, "a.wild.example.test."), ["::7"]);
  assert.deepEqual(t.addresses(4, "exact.wild.example.test."), ["10.0.0.8"], "its own line wins");
  assert.deepEqual(t.addresses(4, "*.wild.example.test."), ["10.0.0.7"], "asked literally");
  assert.equal(t.addresses(4, "a.b.wild.example.test."), undefined);
  assert.equal(t.addresses(4, "wild.example.test."), undefined);
  assert.ok(t.has("any.wild.example.test."));
  assert.ok(!t.has("wild.example.test."));
  assert.equal(t.ptr.get(reverseName(parseIp("10.0.0.7")!)), undefined);
  assert.deepEqual(t.ptr.get(reverseName(parseIp("10.0.0.8")!)), ["exact.wild.example.test."]);
});

Deno.test("a wildcard is only a whole first label", () => {
  const { records, problems } = parseHosts(
    "10.0.0.1 *\n10.0.0.2 a.*.example\n10.0.0.3 w*.example\n",
    {
      zones: ["."],
    },
  );
  assert.deepEqual(records, []);
  assert.equal(problems.length, 3);
  assert.deepEqual(parseHostsStrict("10.0.0.4 *.example\n", "t").map((r) => r.names), [
    ["*.example."],
  ]);
});
