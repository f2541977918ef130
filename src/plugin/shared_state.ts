/**
 * State the main thread keeps and worker threads follow: the etcd-backed tables (etcdhosts'
 * records, idetcd's slot view). One etcd watch per node, not one per worker: the main thread's
 * resource publishes each new value under its resource key, the server posts it to every
 * worker, and a worker's replica resource follows that key. Values cross threads by structured
 * clone, so they must be plain data (no classes, no functions).
 *
 * In the main thread `publishState` forwards (the workers start before any resource publishes,
 * so none needs an earlier value); in a worker the server calls it with what arrived, which is
 * kept (a replica may follow only later, when its config is prepared) and handed to the
 * followers. Without workers nothing is kept or forwarded.
 */

type Follower = (value: unknown) => void;

const latest = new Map<string, unknown>();
const followers = new Map<string, Set<Follower>>();
let forward: ((key: string, value: unknown) => void) | null = null;
/** Whether published values are kept for later followers: in worker threads only. */
let retain = false;

/** Makes this thread keep every published value for followers that come later (workers). */
export function retainStates(): void {
  retain = true;
}

/** Sets (or clears, with null) where published values go besides this thread's followers. */
export function forwardStates(sink: ((key: string, value: unknown) => void) | null): void {
  forward = sink;
}

/** Makes `value` the state under `key`: followers here are told, and forwarded to workers. */
export function publishState(key: string, value: unknown): void {
  if (retain) latest.set(key, value);
  for (const follower of followers.get(key) ?? []) follower(value);
  forward?.(key, value);
}

/** Forgets the state under `key` (its resource closed), so a long-running node does not grow. */
export function dropState(key: string): void {
  latest.delete(key);
}

/**
 * Calls `follower` with the state under `key` now (if there is one) and on every change;
 * returns the function that stops it.
 */
export function followState(key: string, follower: Follower): () => void {
  let set = followers.get(key);
  if (!set) followers.set(key, set = new Set());
  set.add(follower);
  if (latest.has(key)) follower(latest.get(key));
  return () => {
    set.delete(follower);
    if (set.size === 0) followers.delete(key);
  };
}
