import assert from "node:assert/strict";
import {
  connectThreads,
  dropState,
  followState,
  forwardStates,
  heardFromThread,
  listenToThreads,
  otherThreads,
  publishState,
  retainStates,
  tellOtherThreads,
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

Deno.test("shared state: messages go to the other threads and reach this thread's listeners", () => {
  assert.equal(otherThreads(), false);
  tellOtherThreads("t|c", 1); // no other thread: nowhere to go, no error
  const sent: unknown[] = [];
  connectThreads((channel, value) => sent.push([channel, value]));
  const heard: unknown[] = [];
  const stop = listenToThreads("t|c", (v) => heard.push(v));
  try {
    assert.equal(otherThreads(), true);
    tellOtherThreads("t|c", 2);
    assert.deepEqual(sent, [["t|c", 2]]);
    assert.deepEqual(heard, [], "a thread does not hear itself");
    heardFromThread("t|c", 3);
    heardFromThread("t|other", 4);
    assert.deepEqual(heard, [3]);
  } finally {
    stop();
    connectThreads(null);
  }
});
