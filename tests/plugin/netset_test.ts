import assert from "node:assert/strict";
import { isNet, NetSet, parseAddress, parseIPv4, parseIPv6 } from "../../src/plugin/netset.ts";
import { DEFAULT_HEALTH_ADDRESS } from "../../src/plugins/health/setup.ts";
import { DEFAULT_READY_ADDRESS } from "../../src/plugins/ready/setup.ts";

Deno.test("netset: IPv4 and IPv6 parsing, strict", () => {
  assert.equal(parseIPv4("10.0.0.1"), 0x0a000001);
  assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
  for (const bad of ["10.0.0", "10.0.0.256", "10.0.0.01", "1.2.3.4.5", "", "a.b.c.d", "1..2.3"]) {
    assert.equal(parseIPv4(bad), -1, bad);
  }
  assert.deepEqual([...parseIPv6("::1")!], [0, 0, 0, 1]);
  assert.deepEqual([...parseIPv6("2001:db8::ff00:42:8329")!], [0x20010db8, 0, 0xff00, 0x00428329]);
  assert.deepEqual([...parseIPv6("::ffff:10.0.0.1")!], [0, 0, 0xffff, 0x0a000001]);
  assert.deepEqual([...parseIPv6("fe80::1%eth0")!], [0xfe800000, 0, 0, 1]);
  for (const bad of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":", "::g", "1:2:3"]) {
    assert.equal(parseIPv6(bad), null, bad);
  }
  assert.equal(parseAddress("::ffff:10.0.0.1"), 0x0a000001, "mapped IPv4 is IPv4");
  assert.equal(parseAddress("nonsense"), null);
});

Deno.test("netset: networks, plain addresses, * and the zero prefixes", () => {
  const set = NetSet.parse(["10.0.0.0/8", "192.168.1.5/24", "::1", "fc00::/7"]) as NetSet;
  const has = (a: string) => set.has(parseAddress(a)!);
  assert.ok(has("10.255.0.1") && has("192.168.1.200") && has("::1") && has("fd12::1"));
  assert.ok(!has("11.0.0.1") && !has("192.168.2.1") && !has("::2") && !has("fe00::1"));
  assert.ok(has("::ffff:10.1.1.1"));
  const any = NetSet.parse(["*"]) as NetSet;
  assert.ok(any.has(parseAddress("8.8.8.8")!) && any.has(parseAddress("2001::1")!));
  const zero = NetSet.parse(["0.0.0.0/0"]) as NetSet;
  assert.ok(zero.has(parseAddress("8.8.8.8")!) && !zero.has(parseAddress("::1")!));
  assert.deepEqual(NetSet.parse(["10.0.0.0/8", "bogus"]), { bad: "bogus" });
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "fe80::1%eth0/64"]) {
    assert.equal(isNet(bad), false, bad);
  }
});

Deno.test("health and ready default to loopback, not every address as CoreDNS", () => {
  assert.equal(DEFAULT_HEALTH_ADDRESS, "127.0.0.1:8080");
  assert.equal(DEFAULT_READY_ADDRESS, "127.0.0.1:8181");
});
