/**
 * Everything the benchmark started and has not stopped yet, so that an error, Ctrl-C or SIGTERM
 * still stops every server, upstream, etcd and load generator.
 */

const stops = new Set<() => Promise<void>>();

/** Registers `stop` until it runs; returns a function that runs it once and forgets it. */
export function track(stop: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = () => {
    if (!done) {
      stops.delete(once);
      done = stop().catch((err) => console.error(`bench: stopping failed: ${err}`));
    }
    return done;
  };
  stops.add(once);
  return once;
}

/** Stops everything still registered, newest first (servers before the etcd they use). */
export async function stopAll(): Promise<void> {
  for (const stop of [...stops].reverse()) await stop();
}

/** On SIGINT or SIGTERM: stop everything, then exit 130 / 143. Returns the undo. */
export function stopAllOnSignals(): () => void {
  const handlers = ([["SIGINT", 130], ["SIGTERM", 143]] as const).map(([signal, code]) => {
    const handler = () => {
      console.error(`bench: ${signal}: stopping every process started ...`);
      stopAll().finally(() => Deno.exit(code));
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return () => handlers.forEach(([signal, handler]) => Deno.removeSignalListener(signal, handler));
}
