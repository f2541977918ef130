/**
 * A minimal Linux libc binding through Deno FFI (stable in Deno 2, needs --allow-ffi): just what
 * a connected UDP socket and a listening one (recvmmsg/sendmmsg) need. Hot-path calls take only
 * "buffer" and integer parameters, which Deno turns into V8 fast calls. `poll` is nonblocking (it runs on Deno's blocking thread pool and
 * returns a promise); everything else is a quick call on the JS thread, so errno (thread-local)
 * is read on the thread that set it.
 */
import { logger } from "../util/log.ts";

const debug = logger("net").debug;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  // ppoll with a timespec: a wait shorter than a millisecond, on the JS thread (no thread hop).
  ppoll: { parameters: ["buffer", "usize", "buffer", "usize"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // The timeout (a struct timespec pointer) is always NULL: passed as the integer 0.
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "usize"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  // A thread's CPU time (CLOCK_THREAD_CPUTIME_ID), for spreading UDP over threads (udp_spread.ts).
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // The open-file limit (server/tcp_limits.ts): Deno's --allow-read refuses /proc/self/limits
  // without --allow-all.
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // syscall(2), for sched_setattr/sched_getattr (thread_slice.ts), which glibc before 2.41 does
  // not wrap. Variadic in C; integer arguments pass alike on x86_64 and aarch64 Linux.
  syscall: { parameters: ["i64", "i64", "buffer", "i64", "i64"], result: "i64" },
  // glibc's: gives freed heap memory back to the system (malloc_trim.ts). Optional, as other
  // libcs lack it.
  malloc_trim: { parameters: ["usize"], result: "i32", optional: true },
  __errno_location: { parameters: [], result: "pointer" },
  // Copies errno out: Deno.UnsafePointerView needs an unscoped --allow-ffi.
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
  // memcpy(buf, buf, 0) returns buf: the address of a buffer, which mmsghdr arrays need
  // (Deno.UnsafePointer.of needs an unscoped --allow-ffi too).
  addressOf: { name: "memcpy", parameters: ["buffer", "buffer", "usize"], result: "usize" },
} as const;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOCK_NONBLOCK = 0o4000;
export const MSG_DONTWAIT = 0x40;
export const SHUT_RDWR = 2;
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const EAGAIN = 11;
export const EINTR = 4;
export const ECONNREFUSED = 111;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_REUSEPORT = 15;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_ATTACH_REUSEPORT_CBPF = 51;
export const SO_DETACH_REUSEPORT_BPF = 68;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const MSG_TRUNC = 0x20;
export const POLLOUT = 0x4;

/**
 * Where libc lives on the common Linux layouts. scripts/flags grants --allow-ffi for exactly these
 * paths: Deno checks the path given to dlopen, so the soname alone would need an unscoped flag.
 */
export const LIBC_PATHS = [
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib/aarch64-linux-gnu/libc.so.6",
  "/lib64/libc.so.6",
  "/usr/lib64/libc.so.6",
];

let loaded: Libc | null | undefined;
let unavailable = "";

/** libc's symbols, or null (logged once, at debug) when FFI is not available here. */
export function libc(): Libc | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (Deno.build.os !== "linux") {
    return none("libc FFI is bound only on Linux");
  }
  const granted = (path?: string) =>
    Deno.permissions.querySync({ name: "ffi", path }).state === "granted";
  // An unscoped --allow-ffi lets the dynamic linker find libc by its soname.
  const candidates = granted() ? ["libc.so.6"] : LIBC_PATHS.filter((p) => granted(p));
  if (candidates.length === 0) {
    return none("--allow-ffi is not granted for libc");
  }
  const errors: string[] = [];
  for (const path of candidates) {
    try {
      loaded = Deno.dlopen(path, SYMBOLS).symbols;
      return loaded;
    } catch (err) {
      errors.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return none(`cannot load libc: ${errors.join("; ")}`);
}

function none(reason: string): null {
  unavailable = reason;
  debug(`no libc FFI (native sockets): ${reason}`);
  return null;
}

/** Why `libc()` returned null ("" when it did not). */
export function libcUnavailableReason(): string {
  return unavailable;
}

const clockTime = new BigInt64Array(2);
const clockBytes = new Uint8Array(clockTime.buffer);

/** A CPU clock (CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID) in nanoseconds, or -1. */
export function cpuClockNs(c: Libc, clock: number): number {
  if (c.clock_gettime(clock, clockBytes) !== 0) return -1;
  return Number(clockTime[0]) * 1e9 + Number(clockTime[1]);
}

const RLIMIT_NOFILE = 7; // the same on x86_64 and aarch64 Linux

/** The soft RLIMIT_NOFILE, or null when it is unlimited or cannot be read. */
export function openFileSoftLimit(c: Libc): number | null {
  const limit = new BigUint64Array(2); // struct rlimit { rlim_t cur, max }
  if (c.getrlimit(RLIMIT_NOFILE, new Uint8Array(limit.buffer)) !== 0) return null;
  const soft = limit[0];
  return soft >= BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(soft);
}

const errnoBytes = new Int32Array(1);

/** The calling thread's errno (call right after the failed libc call, on the same thread). */
export function errno(c: Libc): number {
  const p = c.__errno_location();
  if (p === null) return 0;
  c.memcpy(errnoBytes, p, 4n);
  return errnoBytes[0];
}

/** errno as text for the common socket errors. */
export function errnoText(e: number): string {
  const names: Record<number, string> = {
    1: "EPERM",
    13: "EACCES (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
    22: "EINVAL",
    97: "EAFNOSUPPORT",
    98: "EADDRINUSE (address already in use)",
    99: "EADDRNOTAVAIL (address not available)",
  };
  return names[e] ?? `errno ${e}`;
}
