import assert from "node:assert/strict";
import { copyBytes } from "../../src/dns/bytes.ts";

Deno.test("copyBytes copies: later writes to the source do not show", () => {
  const src = new Uint8Array([1, 2, 3]);
  const copies = Array.from({ length: 10_000 }, (_, i) => {
    src[0] = i & 0xff;
    return copyBytes(src);
  });
  copies.forEach((c, i) => assert.deepStrictEqual([...c], [i & 0xff, 2, 3]));
  const big = new Uint8Array(5000).fill(9);
  assert.deepStrictEqual(copyBytes(big), big);
});
