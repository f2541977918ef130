import assert from "node:assert/strict";
import { parseIpv4, parseIpv6, sockaddr } from "../../src/net/sockaddr.ts";

const hex = (b: Uint8Array | null) =>
  b === null ? null : [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("sockaddr: sockaddr_in is family (host order), port (network order), address, zeros", () => {
  assert.equal(hex(sockaddr("127.0.0.1", 53)), "02000035" + "7f000001" + "0000000000000000");
  assert.equal(hex(sockaddr("10.1.2.3", 0xabcd)), "0200abcd" + "0a010203" + "0000000000000000");
});

Deno.test("sockaddr: sockaddr_in6 is 28 bytes: family, port, flowinfo, address, scope id", () => {
  assert.equal(
    hex(sockaddr("::1", 5353)),
    "0a0014e9" + "00000000" + "00000000000000000000000000000001" + "00000000",
  );
  assert.equal(
    hex(sockaddr("[2001:db8::53]", 53))?.slice(16, 48),
    "20010db8000000000000000000000053",
  );
});

Deno.test("sockaddr: IPv6 text forms", () => {
  assert.equal(hex(parseIpv6("::")), "0".repeat(32));
  assert.equal(hex(parseIpv6("1:2:3:4:5:6:7:8")), "00010002000300040005000600070008");
  assert.equal(hex(parseIpv6("fe80::1:2")), "fe800000000000000000000000010002");
  assert.equal(hex(parseIpv6("::ffff:192.0.2.1")), "00000000000000000000ffffc0000201");
  assert.equal(hex(parseIpv6("2001:DB8::")), "20010db8000000000000000000000000");
});

Deno.test("sockaddr: anything else is not an address", () => {
  for (const bad of ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "a.b.c.d", "localhost", " 1.2.3.4"]) {
    assert.equal(parseIpv4(bad), null, bad);
  }
  for (
    const bad of [
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "12345::",
      "g::",
      "fe80::1%eth0",
      "1:2:3:4:5:6:7::8",
    ]
  ) {
    assert.equal(parseIpv6(bad), null, bad);
  }
  assert.equal(sockaddr("example.org", 53), null);
  assert.equal(sockaddr("127.0.0.1", 65_536), null);
  assert.equal(sockaddr("127.0.0.1", -1), null);
});
