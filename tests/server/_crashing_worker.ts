/** A worker module for tests/server/workers_test.ts: dies of an uncaught error on its first request. */
(globalThis as unknown as { onmessage: (e: MessageEvent<{ type: string }>) => void }).onmessage = (
  e,
) => {
  if (e.data.type !== "init") {
    setTimeout(() => {
      throw new Error("boom");
    }, 0);
  }
};
