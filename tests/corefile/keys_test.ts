import assert from "node:assert/strict";
import { normalizeKey, reverseZonesOf } from "../../src/corefile/keys.ts";
import { keyString } from "../../src/corefile/types.ts";
import { assertCorefileError } from "./_helpers.ts";

const AT = { file: "Corefile", line: 3 };

function keys(raw: string, dnsPort = 53): string[] {
  return normalizeKey(raw, AT, dnsPort).map(keyString);
}

Deno.test("keys: zones are lowercased FQDNs with the default port", () => {
  assert.deepEqual(keys(".:53"), ["dns://.:53"]);
  assert.deepEqual(keys("."), ["dns://.:53"]);
  assert.deepEqual(keys("example.org:53"), ["dns://example.org.:53"]);
  assert.deepEqual(keys("example.org.:53"), ["dns://example.org.:53"]);
  assert.deepEqual(keys("Example.ORG."), ["dns://example.org.:53"]);
  assert.deepEqual(keys("dns://example.org"), ["dns://example.org.:53"]);
  assert.deepEqual(keys("DNS://example.org:1053"), ["dns://example.org.:1053"]);
  assert.deepEqual(keys("dns://.:53"), ["dns://.:53"]);
  assert.deepEqual(keys("127.0.0.1:4005"), ["dns://127.0.0.1.:4005"]);
});

Deno.test("keys: the default port follows dnsPort; a written port wins", () => {
  assert.deepEqual(keys("example.org", 1053), ["dns://example.org.:1053"]);
  assert.deepEqual(keys("example.org:54", 1053), ["dns://example.org.:54"]);
  assert.deepEqual(keys("10.0.0.0/8", 1053), ["dns://10.in-addr.arpa.:1053"]);
});

Deno.test("keys: tls:// keys default to port 853, whatever dnsPort is", () => {
  assert.deepEqual(keys("tls://.:853"), ["tls://.:853"]);
  assert.deepEqual(keys("tls://."), ["tls://.:853"]);
  assert.deepEqual(keys("TLS://Example.org", 1053), ["tls://example.org.:853"]);
  assert.deepEqual(keys("tls://example.org:8853"), ["tls://example.org.:8853"]);
  assert.deepEqual(keys("tls://10.0.0.0/8"), ["tls://10.in-addr.arpa.:853"]);
  const [k] = normalizeKey("tls://example.org:8853", AT, 53);
  assert.equal(k.transport, "tls");
});

Deno.test("keys: the written key is kept as raw", () => {
  const [k] = normalizeKey("dns://Example.org:1053", AT, 53);
  assert.deepEqual(k, {
    transport: "dns",
    zone: "example.org.",
    port: 1053,
    raw: "dns://Example.org:1053",
  });
});

Deno.test("keys: a CIDR becomes reverse zones on octet boundaries (IPv4)", () => {
  assert.deepEqual(keys("10.0.0.0/8:53"), ["dns://10.in-addr.arpa.:53"]);
  assert.deepEqual(reverseZonesOf("10.0.0.0/8"), ["10.in-addr.arpa."]);
  assert.deepEqual(reverseZonesOf("10.0.0.0/7"), ["10.in-addr.arpa.", "11.in-addr.arpa."]);
  assert.deepEqual(reverseZonesOf("10.0.0.0/15"), ["0.10.in-addr.arpa.", "1.10.in-addr.arpa."]);
  assert.deepEqual(reverseZonesOf("192.168.1.0/24"), ["1.168.192.in-addr.arpa."]);
  assert.deepEqual(reverseZonesOf("192.168.1.7/32"), ["7.1.168.192.in-addr.arpa."]);
  assert.deepEqual(reverseZonesOf("10.0.0.0/31"), [
    "0.0.0.10.in-addr.arpa.",
    "1.0.0.10.in-addr.arpa.",
  ]);
  assert.deepEqual(reverseZonesOf("0.0.0.0/0"), ["in-addr.arpa."]);
  // Host bits are ignored, as Go's ParseCIDR does.
  assert.deepEqual(reverseZonesOf("10.1.2.3/8"), ["10.in-addr.arpa."]);
  // Zones come in address order (numeric, not lexical).
  const zones = reverseZonesOf("10.9.3.0/18")!;
  assert.equal(zones.length, 64);
  assert.deepEqual(zones.slice(0, 3), [
    "0.9.10.in-addr.arpa.",
    "1.9.10.in-addr.arpa.",
    "2.9.10.in-addr.arpa.",
  ]);
  assert.equal(zones[63], "63.9.10.in-addr.arpa.");
  assert.equal(reverseZonesOf("10.0.0.0/1")!.length, 128);
});

Deno.test("keys: a CIDR becomes reverse zones on nibble boundaries (IPv6)", () => {
  const db8 = "b.d.0.1.0.0.2.ip6.arpa.";
  assert.deepEqual(reverseZonesOf("fd00::/8"), ["d.f.ip6.arpa."]);
  assert.deepEqual(reverseZonesOf("2001:db8::/29"), [..."89abcdef"].map((n) => `${n}.${db8}`));
  assert.deepEqual(reverseZonesOf("2001:db8::/30"), [..."89ab"].map((n) => `${n}.${db8}`));
  const deep = (n: string, zeros: number) => `${n}.${"0.".repeat(zeros)}8.${db8}`;
  assert.deepEqual(reverseZonesOf("2001:db8::/115"), ["0", "1"].map((n) => deep(n, 20)));
  assert.deepEqual(reverseZonesOf("2001:db8::/114"), [..."0123"].map((n) => deep(n, 20)));
  assert.deepEqual(reverseZonesOf("2001:db8::/113"), [..."01234567"].map((n) => deep(n, 20)));
  assert.deepEqual(reverseZonesOf("2001:db8::/112"), [deep("0", 19)]);
  assert.deepEqual(reverseZonesOf("2001:db8::/108"), [deep("0", 18)]);
  assert.deepEqual(reverseZonesOf("::/0"), ["ip6.arpa."]);
  assert.deepEqual(reverseZonesOf("::1/128"), [`1.${"0.".repeat(31)}ip6.arpa.`]);
  // An IPv4-mapped address (CoreDNS refuses it; it is a valid network, so we serve it).
  const mapped = "b.0.0.0.f.f.f.f." + "0.".repeat(20) + "ip6.arpa.";
  assert.deepEqual(reverseZonesOf("::fFFF:B:F/115"), ["0." + mapped, "1." + mapped]);
  assert.deepEqual(reverseZonesOf("::ffff:10.0.0.0/104"), reverseZonesOf("::ffff:a00:0/104"));
  assert.deepEqual(keys("fd00::/8:1053"), ["dns://d.f.ip6.arpa.:1053"]);
  assert.deepEqual(keys("dns://fd00::/8"), ["dns://d.f.ip6.arpa.:53"]);
});

Deno.test("keys: invalid CIDRs give null", () => {
  for (
    const bad of [
      "10.0.0.0/33",
      "10.0.0/8",
      "300.0.0.0/8",
      "010.0.0.0/8",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "abc/8",
      "fd00::/129",
      "1::2::3/64",
      "1:2:3:4:5:6:7:8:9/64",
      "1:2:3/64",
      "1.2.3.4::/64",
      "fe80::1%eth0/64",
      "10.0.0.0",
    ]
  ) {
    assert.equal(reverseZonesOf(bad), null, bad);
  }
});

Deno.test("keys: errors name the place and what to write", () => {
  assertCorefileError(() => keys(":53"), "Corefile:3", "write '.:53' for the root zone");
  assertCorefileError(() => keys(":1053"), "Corefile:3", "write '.:1053'");
  assertCorefileError(() => keys("dns://:53"), "Corefile:3", "the zone is empty");
  assertCorefileError(() => keys("dns://"), "Corefile:3", "the zone is empty");
  assertCorefileError(() => keys("example.org:"), "Corefile:3", "expected a port after ':'");
  assertCorefileError(() => keys("example.org:abc"), "Corefile:3", "port 'abc' is not a number");
  assertCorefileError(() => keys("example.org:0"), "Corefile:3", "from 1 to 65535");
  assertCorefileError(() => keys("example.org:65536"), "Corefile:3", "from 1 to 65535");
  assertCorefileError(() => keys("example.org:1:2"), "Corefile:3", "IPv6 network needs a prefix");
  for (const scheme of ["https", "grpc", "quic", "HTTPS3", "udp"]) {
    assertCorefileError(
      () => keys(`${scheme}://example.org`),
      "Corefile:3",
      `transport '${scheme.toLowerCase()}://`,
    );
    assertCorefileError(
      () => keys(`${scheme}://example.org`),
      "Corefile:3",
      "write dns:// (or no prefix) for DNS over UDP and TCP, or tls:// for DNS over TLS",
    );
  }
  assertCorefileError(() => keys("quic://."), "Corefile:3", "'quic://' (DNS over QUIC) is not");
  assertCorefileError(
    () => keys("dns://127.0.0.1://53"),
    "Corefile:3",
    "expected [dns://|tls://]zone[:port]",
  );
  assertCorefileError(() => keys("tls://:853"), "Corefile:3", "write '.:853'");
  assertCorefileError(() => keys("a..b"), "Corefile:3", "empty label");
  assertCorefileError(() => keys(`${"a".repeat(64)}.org`), "Corefile:3", "longer than 63");
  assertCorefileError(() => keys(`${"abcdefghi.".repeat(26)}org`), "Corefile:3", "longer than 253");
  assertCorefileError(() => keys("example.org{"), "Corefile:3", "put spaces around the '{'");
  assertCorefileError(() => keys("::1"), "Corefile:3", "needs a prefix length");
  assertCorefileError(() => keys("10.0.0.0/33"), "Corefile:3", "not a valid CIDR network");
  assertCorefileError(() => keys("example.org/24:53"), "Corefile:3", "not a valid CIDR network");
});
