/**
 * Asks Linux for short time slices on a thread that serves DNS, through sched_setattr(2): since
 * Linux 6.12 the fair scheduler (EEVDF) takes `sched_runtime` of a normal thread as the slice it
 * wants, and a thread with a shorter slice gets the CPU sooner when it wakes. It is no priority:
 * the thread's share of the CPU and its nice value stay as they were, and it needs no privilege.
 * Older kernels ignore the field.
 *
 * Why: a DNS thread sleeps and wakes thousands of times a second, and on a busy node each wake
 * can wait behind another program's whole slice (a few ms). With dnsperf sharing the two cores
 * of the bench machine, etcdns hosts at 85k queries/s spent 308-731 ms of 6 s waiting to run and
 * had a p99 of 0.37-2.44 ms (median 0.88, 7 runs); with 0.1 ms slices it waited 112-350 ms and
 * had 0.43-1.64 ms (median 0.56; one run of 5.2), at the same peak and CPU per query.
 */
import { errno, type Libc } from "./libc.ts";

/** The slice asked for: the shortest Linux accepts. */
export const SERVING_SLICE_NS = 100_000;

/** sched_setattr and sched_getattr, which glibc before 2.41 does not wrap. */
const SYSCALLS: Record<string, { set: bigint; get: bigint }> = {
  x86_64: { set: 314n, get: 315n },
  aarch64: { set: 274n, get: 275n },
};
const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
/** sizeof(struct sched_attr), version 1 (with the utilization clamps). */
const ATTR_SIZE = 56;

/** A thread's scheduling attributes as sched_getattr reads them (the fields used here). */
export interface ThreadScheduling {
  policy: number;
  nice: number;
  /** For a normal thread, the slice it asked for in ns (0: the scheduler's default). */
  runtimeNs: number;
}

/** A thread's scheduling attributes (`tid` 0: the calling thread), or null if unreadable. */
export function threadScheduling(c: Libc, tid = 0): ThreadScheduling | null {
  const calls = SYSCALLS[Deno.build.arch];
  if (!calls) return null;
  const attr = new DataView(new ArrayBuffer(ATTR_SIZE));
  const bytes = new Uint8Array(attr.buffer);
  if (c.syscall(calls.get, BigInt(tid), bytes, BigInt(ATTR_SIZE), 0n) !== 0n) return null;
  return {
    policy: attr.getUint32(4, true),
    nice: attr.getInt32(16, true),
    runtimeNs: Number(attr.getBigUint64(24, true)),
  };
}

/**
 * Asks for `sliceNs` slices on the calling thread, keeping its policy and nice value; only for
 * a normal or batch thread (a real-time one is left as the operator set it). Returns what was
 * done, for a debug line: "" on success, else why not.
 */
export function requestThreadSlice(c: Libc, sliceNs = SERVING_SLICE_NS): string {
  const calls = SYSCALLS[Deno.build.arch];
  if (!calls) return `no sched_setattr number for ${Deno.build.arch}`;
  const now = threadScheduling(c);
  if (now === null) return `sched_getattr failed (errno ${errno(c)})`;
  if (now.policy !== SCHED_OTHER && now.policy !== SCHED_BATCH) {
    return `the thread's policy is ${now.policy}, not a normal one`;
  }
  const attr = new DataView(new ArrayBuffer(ATTR_SIZE));
  attr.setUint32(0, ATTR_SIZE, true);
  attr.setUint32(4, now.policy, true);
  attr.setInt32(16, now.nice, true);
  attr.setBigUint64(24, BigInt(sliceNs), true);
  const bytes = new Uint8Array(attr.buffer);
  if (c.syscall(calls.set, 0n, bytes, 0n, 0n) !== 0n) {
    return `sched_setattr failed (errno ${errno(c)})`;
  }
  return "";
}
