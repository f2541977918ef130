/**
 * State the main thread keeps and worker threads follow: the etcd-backed tables (etcdhosts'
 * records, idetcd's slot view). One etcd watch per node, not one per worker: the main thread's
 * resource publishes each new value under its resource key, the server posts it to every
 * worker, and a worker's replica resource follows that key. Values cross threads by structured
 * clone, so they must be plain data (no classes, no functions).
 *
 * In the main thread `publishState` forwards, and keeps the values too when the workers start
 * only once the load needs them (they are then given what is kept); in a worker the server calls
 * it with what arrived, which is kept (a replica may follow only later, when its config is
 * prepared) and handed to the followers. Without workers nothing is kept or forwarded.
 */

type Follower = (value: unknown) => void;

const latest = new Map<string, unknown>();
const followers = new Map<string, Set<Follower>>();
let forward: ((key: string, value: unknown) => void) | null = null;
/**
 * Whether published values are kept for later followers: in worker threads, and in a main thread
 * whose workers start only when the load needs them.
 */
let retain = false;

/** Makes this thread keep every published value for followers (or threads) that come later. */
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

/** Every value kept (see retainStates), for worker threads that start later. */
export function retainedStates(): [key: string, value: unknown][] {
  return [...latest];
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

/*
 * Messages between threads: what one thread learns that the others may use too (a cache entry
 * fetched from upstream). Unlike published state these are not kept: a listener hears what is
 * sent while it listens. In the main thread a message goes to every worker; in a worker it goes
 * to the main thread, which hears it and relays it to the other workers.
 */

const channels = new Map<string, Set<Follower>>();
let tellSink: ((channel: string, value: unknown) => void) | null = null;

/** Sets (or clears, with null) where `tellOtherThreads` sends: the server's job. */
export function connectThreads(sink: ((channel: string, value: unknown) => void) | null): void {
  tellSink = sink;
}

/** Whether other threads exist to tell (so a sender can skip building a message). */
export function otherThreads(): boolean {
  return tellSink !== null;
}

/** Sends `value` (plain data) to the listeners of `channel` in every other thread. */
export function tellOtherThreads(channel: string, value: unknown): void {
  tellSink?.(channel, value);
}

/** Hands a message from another thread to this thread's listeners: the server's job. */
export function heardFromThread(channel: string, value: unknown): void {
  for (const listener of channels.get(channel) ?? []) listener(value);
}

/** Calls `listener` with every message other threads send on `channel`; returns the stop. */
export function listenToThreads(channel: string, listener: Follower): () => void {
  let set = channels.get(channel);
  if (!set) channels.set(channel, set = new Set());
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) channels.delete(channel);
  };
}
