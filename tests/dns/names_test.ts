import assert from "node:assert/strict";
import { fqdn } from "../../src/dns/message.ts";

Deno.test("fqdn lowercases and adds the final dot, from memory or not", () => {
  for (let round = 0; round < 2; round++) {
    assert.equal(fqdn(""), ".");
    assert.equal(fqdn("."), ".");
    assert.equal(fqdn("WWW.Example.ORG"), "www.example.org.");
    assert.equal(fqdn("www.example.org."), "www.example.org.");
    assert.equal(fqdn("www.example.org"), "www.example.org.");
  }
  // Past the memory's size it starts over, and answers stay right.
  for (let i = 0; i < 10000; i++) assert.equal(fqdn(`H${i}.Example`), `h${i}.example.`);
  assert.equal(fqdn("WWW.Example.ORG"), "www.example.org.");
});
