import assert from "node:assert/strict";

/** Runs `body` in a child with log.ts's writers in scope; returns what it printed. */
async function childOutput(body: string): Promise<string> {
  const log = JSON.stringify(new URL("../../src/util/log.ts", import.meta.url).href);
  const script = `import { flushLines, writeLine, writeLineSoon as soonBytes } from ${log};\n` +
    `const writeLineSoon = (s) => soonBytes(new TextEncoder().encode(s));\n${body}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("writeLine writes each line whole, ASCII, UTF-8 and past its buffer", async () => {
  const lines = ["plain", "ünïcødé ✓ 🎉", "x".repeat(5000), "é".repeat(6000), "last"];
  const out = await childOutput(`for (const l of ${JSON.stringify(lines)}) writeLine(l);`);
  assert.equal(out, lines.map((l) => l + "\n").join(""));
});

Deno.test("writeLineSoon: held lines keep their order with writeLine's, and exit writes them", async () => {
  const out = await childOutput(`
    writeLineSoon("q1"); writeLineSoon("q2 ünïcødé");
    writeLine("error after q2");
    writeLineSoon("q3"); writeLineSoon("y".repeat(5000)); writeLineSoon("q4");
    Deno.exit(0);`);
  assert.equal(
    out,
    ["q1", "q2 ünïcødé", "error after q2", "q3", "y".repeat(5000), "q4", ""].join("\n"),
  );
});

Deno.test("writeLineSoon: lines go out within the hold, in writes of at most 4096 bytes", async () => {
  // 300 lines of 40 bytes: more than one write's worth, each write ending on a line boundary.
  const out = await childOutput(`
    const writes = [];
    const write = Deno.stdout.writeSync.bind(Deno.stdout);
    Deno.stdout.writeSync = (b) => { writes.push(b.length); return write(b); };
    for (let i = 0; i < 300; i++) writeLineSoon(String(i).padStart(39, "."));
    await new Promise((r) => setTimeout(r, 50));
    const held = writes.length;
    flushLines();
    if (writes.length !== held) throw new Error("lines were still held after the hold time");
    if (writes.some((n) => n > 4096 || n % 40 !== 0)) throw new Error(JSON.stringify(writes));`);
  const lines = out.trimEnd().split("\n");
  assert.equal(lines.length, 300);
  lines.forEach((l, i) => assert.equal(l, String(i).padStart(39, ".")));
});
