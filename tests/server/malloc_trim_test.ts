import assert from "node:assert/strict";
import { libc } from "../../src/net/libc.ts";
import { MallocTrimmer } from "../../src/server/malloc_trim.ts";

/** Burns `ms` of this thread's CPU. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
}

Deno.test({
  name: "MallocTrimmer: trims once when a busy second is followed by a quiet one, not before",
  ignore: libc()?.malloc_trim == null,
  fn: () => {
    const trimmer = new MallocTrimmer();
    trimmer.start();
    try {
      assert.equal(trimmer.check(), false, "no busy period yet");
      burn(1_200);
      assert.equal(trimmer.check(), false, "still busy: this interval held the load");
      assert.equal(trimmer.check(), true, "quiet after a busy period: trims");
      assert.equal(trimmer.check(), false, "and only once");
      assert.equal(trimmer.trims, 1);
    } finally {
      trimmer.stop();
    }
  },
});

Deno.test({
  name: "MallocTrimmer: a load that goes on is trimmed while it runs, once per stretch of CPU",
  ignore: libc()?.malloc_trim == null,
  fn: () => {
    const trimmer = new MallocTrimmer(libc(), 1_500);
    trimmer.start();
    try {
      burn(1_200);
      assert.equal(trimmer.check(), false, "busy, but not for long enough");
      burn(400);
      assert.equal(trimmer.check(), true, "busy for 1.5 s of CPU: trims without waiting for quiet");
      burn(300);
      assert.equal(trimmer.check(), false, "the stretch starts again");
      assert.equal(trimmer.trims, 1);
    } finally {
      trimmer.stop();
    }
  },
});

Deno.test("MallocTrimmer: without libc FFI it never trims and start() sets no timer", () => {
  const trimmer = new MallocTrimmer(null);
  trimmer.start(); // an interval left behind would fail the test's leak check
  assert.equal(trimmer.check(), false);
  trimmer.stop();
});
