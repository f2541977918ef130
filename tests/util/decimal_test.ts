import assert from "node:assert/strict";
import { decimal, decimalSeconds } from "../../src/util/decimal.ts";

Deno.test("decimal: integers as String() spells them, padded on request", () => {
  for (const n of [0, 7, 10, 99, 512, 4096, 53, 65535, 123456789, Number.MAX_SAFE_INTEGER]) {
    assert.equal(decimal(n), String(n));
  }
  assert.equal(decimal(42, 5), "00042");
  assert.equal(decimal(0, 3), "000");
  assert.equal(decimal(42, 9), "000000042");
  assert.equal(decimal(1234567, 9), "001234567");
  assert.equal(decimal(100000), "100000");
  // Not a non-negative safe integer: String's spelling.
  assert.equal(decimal(-3), "-3");
  assert.equal(decimal(1.5), "1.5");
});

Deno.test("decimalSeconds: nanoseconds as Go's FormatFloat(d.Seconds(), 'f', -1, 64)", () => {
  // Printed by Go 1.26 from time.Duration(ns).Seconds().
  const go: Array<[number, string]> = [
    [0, "0"],
    [1, "0.000000001"],
    [7, "0.000000007"],
    [10, "0.00000001"],
    [20, "0.00000002"],
    [100, "0.0000001"],
    [999, "0.000000999"],
    [1000, "0.000001"],
    [3241, "0.000003241"],
    [123456, "0.000123456"],
    [1000000, "0.001"],
    [100000000, "0.1"],
    [999999999, "0.999999999"],
    [1000000001, "1.000000001"],
    [1500000000, "1.5"],
    [3000000000, "3"],
    [12345678901, "12.345678901"],
    [86400000000000, "86400"],
    [999999999999999, "999999.999999999"],
  ];
  for (const [ns, want] of go) assert.equal(decimalSeconds(ns), want, `${ns} ns`);
});

Deno.test("decimal: per-query numbers leave nothing in the old generation (V8's number-string cache)", async () => {
  // A log line's shape: parts joined through a megamorphic call, then encoded. Through String(n),
  // every new port and ID is promoted and V8 needs full GCs; through decimal(n), none.
  const script = (convert: string) => `
    import { decimal } from ${
    JSON.stringify(new URL("../../src/util/decimal.ts", import.meta.url).href)
  };
    const parts = [(e) => e.host, ":", (e) => ${convert}(e.port), " - ", (e) => ${convert}(e.id),
      ' "A IN ', (e) => e.name, '" ', (e) => ${convert}(e.size)];
    const format = (e) => { let out = ""; for (const p of parts) out += typeof p === "string" ? p : p(e); return out; };
    const encoder = new TextEncoder(), buffer = new Uint8Array(256);
    let x = 1, sink = 0;
    for (let i = 0; i < 2000000; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const e = { host: "127.0.0.1", port: x & 0xffff, id: x >>> 16, name: "www.example.org.", size: 34 };
      sink += encoder.encodeInto("[INFO] " + format(e), buffer).written;
    }
    if (sink === 0) throw new Error("unused");`;
  const fullGcs = async (convert: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--v8-flags=--max-semi-space-size=1,--trace-gc", script(convert)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(out.success);
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
      l.includes("Mark-Compact")
    )
      .length;
  };
  assert.ok((await fullGcs("String")) > 0, "the control no longer promotes: the test is moot");
  assert.equal(await fullGcs("decimal"), 0);
});
