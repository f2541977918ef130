/**
 * What the V8 flags in scripts/flags are for, pinned in a child process: each test runs a
 * script shaped like the case the flag is there for, with the shipped flags and without the one
 * under test, and asserts both halves, so a test whose control stops misbehaving fails too.
 */
import assert from "node:assert/strict";
import { runtimeFlags } from "../helpers/etcdns.ts";

/** The shipped --v8-flags, one flag per entry. */
function shippedV8Flags(): string[] {
  return runtimeFlags().filter((f) => f.startsWith("--v8-flags="))
    .flatMap((f) => f.slice("--v8-flags=".length).split(","));
}

/** Runs `script` with these V8 flags; returns its stdout (where V8's traces go). */
async function run(script: string, v8Flags: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--v8-flags=${v8Flags.join(",")}`, script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "the child script failed");
  return new TextDecoder().decode(out.stdout);
}

Deno.test("v8 flags: a burst that outlives a young collection does not tenure its allocation sites", async () => {
  const flag = "--no-allocation-site-pretenuring";
  const shipped = shippedV8Flags();
  assert.ok(shipped.includes(flag), `${flag} is shipped: ${shipped}`);
  // A cache's first misses: a few hundred queries from one allocation site wait (here: are held)
  // across a young collection. Pretenuring then allocates that site's objects in the old
  // generation for good, though from then on they die at once, as cache hits do.
  const script = `
    function make(i) { return { id: i, list: [i, i + 1] }; }
    function garbage(n) { let s = 0; for (let i = 0; i < n; i++) s += [i, i, i, i].length; return s; }
    let held = [];
    for (let i = 0; i < 500; i++) held.push(make(i));
    let sink = garbage(200000);
    held = null;
    for (let i = 0; i < 1000000; i++) sink += make(i).list.length;
    if (sink === 0) throw new Error("unused");`;
  const tenured = async (flags: string[]) => {
    const text = await run(script, [...flags, "--trace-pretenuring-statistics"]);
    return text.split("\n").filter((l) => l.includes("=> tenure")).length;
  };
  const control = await tenured(shipped.filter((f) => f !== flag));
  assert.ok(control > 0, "without the flag V8 no longer tenures this site: the test is moot");
  assert.equal(await tenured(shipped), 0);
});
