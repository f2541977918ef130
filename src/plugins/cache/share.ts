/**
 * The threads' caches fill each other. With `workers N` every thread has its own cache (a hit
 * stays a map lookup, with no lock and no message), and SO_REUSEPORT spreads a stub resolver's
 * queries (a new source port each) over all of them; so an entry one thread stores from upstream
 * is offered to the others (src/plugin/shared_state.ts), which keep it for the life it has left.
 * Upstream is then asked about once per name and TTL per node, not once per thread; two threads
 * that miss the same name at the same moment both ask, as two queries racing in one thread do.
 *
 * Only entries of plain record types cross: structured clone turns a Buffer into a Uint8Array,
 * which the encoder of a binary record (TXT, OPT, unknown types) does not take back.
 */
import type { ResourceRecord } from "../../dns/message.ts";
import { listenToThreads } from "../../plugin/shared_state.ts";
import type { Resource } from "../../plugin/resources.ts";
import type { Entry, Kind } from "./entry.ts";

/** Record types whose data is text or a plain object, safe to clone across threads. */
const PLAIN_TYPES: ReadonlySet<string> = new Set([
  "A",
  "AAAA",
  "CNAME",
  "DNAME",
  "PTR",
  "NS",
  "MX",
  "SOA",
  "SRV",
]);

/** An entry as it crosses threads: plain data, its age instead of a thread's clock reading. */
export interface SharedEntry {
  key: string;
  kind: Kind;
  rcode: number;
  flags: number;
  answers: readonly ResourceRecord[];
  authorities: readonly ResourceRecord[];
  additionals: readonly ResourceRecord[];
  ttl: number;
  /** Milliseconds since it was stored (each thread's performance.now() has its own origin). */
  ageMs: number;
}

/** The entry as it is offered to other threads, or null when it holds a binary record. */
export function toShared(key: string, e: Entry, now: number): SharedEntry | null {
  const plain = (rrs: readonly ResourceRecord[]) => rrs.every((r) => PLAIN_TYPES.has(r.type));
  if (!plain(e.answers) || !plain(e.authorities) || !plain(e.additionals)) return null;
  const { kind, rcode, flags, answers, authorities, additionals, ttl } = e;
  return { key, kind, rcode, flags, answers, authorities, additionals, ttl, ageMs: now - e.stored };
}

/** The entry an offered one becomes in this thread. */
export function fromShared(s: SharedEntry, now: number): Entry {
  const { kind, rcode, flags, answers, authorities, additionals, ttl } = s;
  const stored = now - s.ageMs;
  return {
    kind,
    rcode,
    flags,
    answers,
    authorities,
    additionals,
    ttl,
    stored,
    hits: 0,
    lastHit: now,
  };
}

/** A cache's subscription to what the other threads' caches store; ends with its config. */
export class CacheChannel implements Resource {
  #stop: (() => void) | null = null;

  constructor(readonly channel: string, readonly adopt: (entry: SharedEntry) => void) {}

  start(): Promise<void> {
    this.#stop = listenToThreads(this.channel, (v) => this.adopt(v as SharedEntry));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#stop?.();
    this.#stop = null;
    return Promise.resolve();
  }
}
