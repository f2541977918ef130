import assert from "node:assert/strict";
import { EventLoopTurn } from "../../src/net/loop_turn.ts";

/** Spins the thread `ms` milliseconds: what a loop reading its own socket does between turns. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
}

Deno.test("EventLoopTurn: a thread that only spins and takes turns still accepts TCP and runs timers", async () => {
  const turn = new EventLoopTurn();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  let accepted = false;
  let fired = 0;
  const accepting = listener.accept().then((conn) => {
    accepted = true;
    conn.close();
  });
  const timer = setInterval(() => fired++, 5);
  // Another process connects, so that nothing but the event loop's poll can notice it.
  const client = new Deno.Command(Deno.execPath(), {
    args: ["eval", `(await Deno.connect({ hostname: "127.0.0.1", port: ${port} })).close()`],
  }).spawn();
  try {
    const start = performance.now();
    while (!accepted && performance.now() - start < 10_000) {
      spin(1);
      assert.equal(await turn.take(), true);
    }
    assert.ok(accepted, "the connection was accepted between turns");
    assert.ok(fired > 0, "timers ran between turns");
    await accepting;
  } finally {
    clearInterval(timer);
    listener.close();
    turn.close();
    await client.status;
  }
});

Deno.test("EventLoopTurn: a turn is short, and close() lets a later take() open a new socket", async () => {
  const turn = new EventLoopTurn();
  try {
    await turn.take();
    const start = performance.now();
    for (let i = 0; i < 200; i++) assert.equal(await turn.take(), true);
    const perTurn = (performance.now() - start) / 200;
    assert.ok(perTurn < 1, `a turn took ${perTurn.toFixed(3)} ms`);
    turn.close();
    assert.equal(await turn.take(), true);
  } finally {
    turn.close();
  }
});
