import assert from "node:assert/strict";
import { mappedReverseName, parseIp, reverseName } from "../../src/hostsfile/ip.ts";

Deno.test("parseIp: IPv4 literals", () => {
  assert.deepEqual(parseIp("10.0.0.1"), { family: 4, text: "10.0.0.1" });
  assert.deepEqual(parseIp("255.255.255.255"), { family: 4, text: "255.255.255.255" });
  assert.deepEqual(parseIp("0.0.0.0"), { family: 4, text: "0.0.0.0" });
  for (
    const bad of [
      "123.123.123",
      "321.321.321.321",
      "1.2.3.4.5",
      "01.2.3.4",
      "1..2.3",
      "1.2.3.",
      "",
      "a.b.c.d",
      "1.2.3.4 ",
    ]
  ) {
    assert.equal(parseIp(bad), null, bad);
  }
});

Deno.test("parseIp: IPv6 literals, canonical RFC 5952 text, zone stripped", () => {
  const cases: [string, string][] = [
    ["::1", "::1"],
    ["::", "::"],
    ["::2", "::2"],
    ["fe80::1%lo0", "fe80::1"],
    ["fe80:0000:0000:0000:0000:0000:0000:0001", "fe80::1"],
    ["fe80:0000:0000:0000:0000:0000:0000:0002%lo0", "fe80::2"],
    ["FE80::ABCD", "fe80::abcd"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["1::", "1::"],
    ["::1.2.3.4", "::102:304"],
  ];
  for (const [inp, out] of cases) assert.deepEqual(parseIp(inp), { family: 6, text: out }, inp);
  for (
    const bad of [
      ":",
      ":::",
      "1:",
      ":1",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "g::1",
      "%lo0",
      "::1.2.3",
    ]
  ) {
    assert.equal(parseIp(bad), null, bad);
  }
});

Deno.test("parseIp: an IPv4-mapped IPv6 address is IPv4 (answers A)", () => {
  assert.deepEqual(parseIp("::FFFF:10.0.0.2"), { family: 4, text: "10.0.0.2" });
  assert.deepEqual(parseIp("::ffff:a00:2"), { family: 4, text: "10.0.0.2" });
});

Deno.test("reverseName", () => {
  assert.equal(reverseName(parseIp("10.0.0.1")!), "1.0.0.10.in-addr.arpa.");
  assert.equal(
    reverseName(parseIp("2001:db8::567:89ab")!),
    "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
  );
});

Deno.test("mappedReverseName: the ::ffff: ip6.arpa name of an IPv4 address", () => {
  assert.equal(
    mappedReverseName(parseIp("10.0.0.5")!),
    "5.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
  );
  assert.equal(
    mappedReverseName(parseIp("::ffff:192.168.255.1")!),
    reverseName({ family: 6, text: "::ffff:c0a8:ff01" }),
  );
});
