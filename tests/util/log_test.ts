import assert from "node:assert/strict";

Deno.test("writeLine writes each line whole, ASCII, UTF-8 and past its buffer", async () => {
  const lines = ["plain", "ünïcødé ✓ 🎉", "x".repeat(5000), "é".repeat(6000), "last"];
  const script = `import { writeLine } from ${
    JSON.stringify(
      new URL("../../src/util/log.ts", import.meta.url).href,
    )
  };\nfor (const l of ${JSON.stringify(lines)}) writeLine(l);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  assert.equal(new TextDecoder().decode(out.stdout), lines.map((l) => l + "\n").join(""));
});
