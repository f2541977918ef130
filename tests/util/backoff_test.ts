import assert from "node:assert/strict";
import { Backoff, sleep } from "../../src/util/backoff.ts";
import { parseDurationMs } from "../../src/util/duration.ts";

Deno.test("back-off doubles up to its maximum and starts over after reset", () => {
  const b = new Backoff({ minMs: 100, maxMs: 1000 });
  assert.deepEqual(Array.from({ length: 6 }, () => b.next()), [100, 200, 400, 800, 1000, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
});

Deno.test("back-off jitter stays within its spread", () => {
  const b = new Backoff({ minMs: 1000, maxMs: 1000, jitter: 0.25 });
  for (let i = 0; i < 200; i++) {
    const w = b.next();
    assert.ok(w >= 750 && w <= 1250, String(w));
  }
});

Deno.test("sleep ends early when its signal aborts, and at once when already aborted", async () => {
  const c = new AbortController();
  const started = Date.now();
  const done = sleep(10_000, c.signal);
  setTimeout(() => c.abort(), 20);
  await done;
  assert.ok(Date.now() - started < 5000);
  await sleep(10_000, c.signal);
  await new Backoff({ minMs: 10_000, maxMs: 10_000 }).wait(c.signal);
});

Deno.test("one duration grammar: Go-style units; a bare number is no duration, except 0", () => {
  assert.equal(parseDurationMs("500ms"), 500);
  assert.equal(parseDurationMs("5s"), 5000);
  assert.equal(parseDurationMs("1m30s"), 90_000);
  assert.equal(parseDurationMs("1.5s"), 1500);
  assert.equal(parseDurationMs("2h"), 7_200_000);
  assert.equal(parseDurationMs("0"), 0);
  for (const bad of ["5", "", "s", "5 s", "5sec", "-1s", "1d"]) {
    assert.equal(parseDurationMs(bad), null, bad);
  }
});
