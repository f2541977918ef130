import assert from "node:assert/strict";
import { LineBytes } from "../../src/util/line_bytes.ts";

const text = (line: LineBytes) => new TextDecoder().decode(line.bytes());
const line = new LineBytes();

Deno.test("LineBytes.decimal: integers as String() spells them, padded on request", () => {
  for (const n of [0, 7, 10, 99, 512, 4096, 53, 65535, 123456789, Number.MAX_SAFE_INTEGER]) {
    assert.equal(text(line.reset().decimal(n)), String(n));
  }
  assert.equal(text(line.reset().decimal(42, 5)), "00042");
  assert.equal(text(line.reset().decimal(0, 3)), "000");
  assert.equal(text(line.reset().decimal(42, 9)), "000000042");
  assert.equal(text(line.reset().decimal(1234567, 9)), "001234567");
  assert.equal(text(line.reset().decimal(100000)), "100000");
  // Not a non-negative safe integer: String's spelling.
  assert.equal(text(line.reset().decimal(-3)), "-3");
  assert.equal(text(line.reset().decimal(1.5)), "1.5");
});

Deno.test("LineBytes.seconds: nanoseconds as Go's FormatFloat(d.Seconds(), 'f', -1, 64)", () => {
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
  for (const [ns, want] of go) assert.equal(text(line.reset().seconds(ns)), want, `${ns} ns`);
});

Deno.test("LineBytes.text: UTF-8 after ASCII, and lines longer than the buffer", () => {
  assert.equal(text(line.reset().text("a ").text("ünïcødé €").byte(0x21)), "a ünïcødé €!");
  const long = "x".repeat(40_000);
  assert.equal(text(line.reset().text("[").text(long).text("]")), `[${long}]`);
  assert.equal(text(line.reset().text("short")), "short", "reset after a long line");
});

Deno.test("LineBytes: per-query numbers leave nothing in the old generation (V8's number-string cache)", async () => {
  // A log line's shape, built in a child under --trace-gc: as a string with String(n), every new
  // port and ID is promoted and V8 needs full GCs; as LineBytes, none.
  const lineBytes = JSON.stringify(new URL("../../src/util/line_bytes.ts", import.meta.url).href);
  const script = (asBytes: boolean) => `
    import { LineBytes } from ${lineBytes};
    const line = new LineBytes(), encoder = new TextEncoder(), buffer = new Uint8Array(256);
    let x = 1, sink = 0;
    for (let i = 0; i < 2000000; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const port = x & 0xffff, id = x >>> 16;
      sink += ${asBytes}
        ? line.reset().text("[INFO] 127.0.0.1:").decimal(port).text(" - ").decimal(id)
          .text(' "A IN www.example.org." ').decimal(34).bytes().length
        : encoder.encodeInto("[INFO] 127.0.0.1:" + String(port) + " - " + String(id) +
          ' "A IN www.example.org." ' + String(34), buffer).written;
    }
    if (sink === 0) throw new Error("unused");`;
  const fullGcs = async (asBytes: boolean) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--v8-flags=--max-semi-space-size=1,--trace-gc", script(asBytes)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(out.success);
    const lines = new TextDecoder().decode(out.stdout).split("\n");
    return lines.filter((l) => l.includes("Mark-Compact")).length;
  };
  assert.ok((await fullGcs(false)) > 0, "the control no longer promotes: the test is moot");
  assert.equal(await fullGcs(true), 0);
});
