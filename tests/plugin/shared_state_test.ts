import assert from "node:assert/strict";
import {
  dropState,
  followState,
  forwardStates,
  publishState,
  retainStates,
} from "../../src/plugin/shared_state.ts";

Deno.test("shared state: followers get the current value and every change; workers get it forwarded", () => {
  // As in a worker thread, which keeps values for replicas that follow later.
  retainStates();
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
    const late: unknown[] = [];
    followState("t|a", (v) => late.push(v))();
    assert.deepEqual(late, [{ n: 3 }], "a replica that follows later starts from the latest value");
    dropState("t|a");
    let calls = 0;
    followState("t|a", () => calls++)();
    assert.equal(calls, 0, "a dropped state is forgotten");
    dropState("t|b");
  } finally {
    forwardStates(null);
  }
});
