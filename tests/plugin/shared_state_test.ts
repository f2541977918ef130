import assert from "node:assert/strict";
import {
  dropState,
  followState,
  forwardStates,
  publishedStates,
  publishState,
} from "../../src/plugin/shared_state.ts";

Deno.test("shared state: followers get the current value and every change; workers get it forwarded", () => {
  const forwarded: [string, unknown][] = [];
  forwardStates((key, value) => forwarded.push([key, value]));
  try {
    publishState("t|a", { n: 1 });
    const seen: unknown[] = [];
    const stop = followState("t|a", (v) => seen.push(v));
    publishState("t|a", { n: 2 });
    publishState("t|b", { n: 9 });
    stop();
    publishState("t|a", { n: 3 });
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }], "the current value, then changes, until stopped");
    assert.deepEqual(forwarded.map(([k]) => k), ["t|a", "t|a", "t|b", "t|a"]);
    const states = new Map(publishedStates());
    assert.deepEqual(states.get("t|a"), { n: 3 }, "a new worker starts from the latest values");
    dropState("t|a");
    dropState("t|b");
    assert.equal(publishedStates().some(([k]) => k.startsWith("t|")), false);
  } finally {
    forwardStates(null);
  }
});
