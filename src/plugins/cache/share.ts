/**
 * The threads' caches fill each other. With `workers N` every thread has its own cache (a hit
 * stays a map lookup, with no lock and no message), and SO_REUSEPORT spreads a stub resolver's
 * queries (a new source port each) over all of them; so an entry one thread stores from upstream
 * is offered to the others (src/plugin/shared_state.ts), which keep it for the life it has left.
 * Upstream is then asked about once per name and TTL per node, not once per thread; two threads
 * that miss the same name at the same moment both ask, as two queries racing in one thread do.
 *
 * Record data crosses by structured clone, which turns a Buffer (dns-packet's TXT strings and raw
 * rdata) into a plain Uint8Array; the receiver turns them back, so its encoder gets what it
 * would have got from the decoder.
 */
import { Buffer } from "node:buffer";
import type { ResourceRecord } from "../../dns/message.ts";
import { listenToThreads } from "../../plugin/shared_state.ts";
import type { Resource } from "../../plugin/resources.ts";
import type { Entry, Kind } from "./entry.ts";

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

/** The entry as it is offered to other threads. */
export function toShared(key: string, e: Entry, now: number): SharedEntry {
  const { kind, rcode, flags, answers, authorities, additionals, ttl } = e;
  return { key, kind, rcode, flags, answers, authorities, additionals, ttl, ageMs: now - e.stored };
}

/** The entry an offered one becomes in this thread. */
export function fromShared(s: SharedEntry, now: number): Entry {
  const { kind, rcode, flags, ttl } = s;
  const answers = s.answers.map(revive);
  const authorities = s.authorities.map(revive);
  const additionals = s.additionals.map(revive);
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

/** A record as the decoder made it: every Uint8Array in its data a Buffer again. */
function revive(r: ResourceRecord): ResourceRecord {
  return { ...r, data: reviveData(r.data) } as ResourceRecord;
}

function reviveData(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(reviveData);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reviveData(x)]));
  }
  return v;
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
