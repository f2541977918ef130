/**
 * How the sockets of one SO_REUSEPORT group (one per thread) share the datagrams.
 *
 * The kernel's own choice hashes each client's address and port, so every thread gets its share
 * of even a light load, and each pays a wake-up per datagram or two: at moderate rates that
 * wake-up, not the answer, is most of the CPU (see udp_native.ts). So while the load is light a
 * classic BPF program sends every datagram to one socket, whose thread then batches and coalesces
 * them while the others sleep; when that thread gets busy, the program is detached and the kernel
 * spreads again. Each socket decides from its own thread's CPU time, sampled a few times a second:
 * the busy one spreads, and when the threads' summed load (thread_loads.ts) is light, they gather
 * again. A moderate load (a summed load one thread may or may not carry under half a core) is
 * tried gathered by the main thread, backing off after each try that spread again at once.
 */
import {
  CLOCK_THREAD_CPUTIME_ID,
  cpuClockNs,
  errno,
  type Libc,
  SO_ATTACH_REUSEPORT_CBPF,
  SO_DETACH_REUSEPORT_BPF,
  SOL_SOCKET,
} from "./libc.ts";
import type { ThreadLoads } from "./thread_loads.ts";

/** How datagrams are spread: "auto" gathers them on one socket while the load is light. */
export type SpreadMode = "auto" | "always";

/** The group a socket belongs to: how many sockets (threads) it has, and the mode. */
export interface UdpSpread {
  sockets: number;
  mode: SpreadMode;
  /** Called when this socket's thread decides to spread (the server may start more threads). */
  onSpread?: () => void;
  /**
   * Where the threads report their loads to each other, and this thread's index in it. Without
   * it a thread takes its own load times the sockets for the group's (an even split).
   */
  loads?: ThreadLoads;
  thread?: number;
}

/** How often a socket looks at its thread's CPU time. */
export const SPREAD_PERIOD_MS = 250;
/**
 * A thread busier than this (a fraction of one core) spreads the load over every socket: a
 * single thread then still has headroom for a burst while the others wake up.
 */
export const SPREAD_ABOVE = 0.5;
/**
 * Spread threads gather on one when their summed load is under this fraction of a core. Gathered,
 * the same work costs less (fewer wake-ups, more per batch), so the one thread ends up under
 * SPREAD_ABOVE and the mode does not flap (whoami at 15,000 queries/s: 0.40 of a core spread
 * over two threads, 0.27 gathered).
 */
export const GATHER_BELOW = 0.45;
/**
 * Between GATHER_BELOW and this, the group's first socket tries gathering (a probe): spread over
 * threads a moderate load costs up to twice what it costs gathered, since each thread then wakes
 * for every datagram or two (cache hits at 15,000 queries/s after a peak: 0.58 of a core over two
 * threads, 0.28 on one), and only trying tells the two apart from a load that one thread cannot
 * carry under SPREAD_ABOVE. A probe that spreads again within PROBE_WATCH_MS failed: the next waits
 * PROBE_BACKOFF_MS, doubled after each failure up to PROBE_BACKOFF_MAX_MS, unless the load falls
 * well under the one it failed at (PROBE_LIGHTER).
 */
export const PROBE_BELOW = 0.75;
export const PROBE_WATCH_MS = 1_000;
export const PROBE_BACKOFF_MS = 2_000;
export const PROBE_BACKOFF_MAX_MS = 64_000;
/** How long after spreading a socket does not gather: the other threads' loads are not in yet. */
export const SPREAD_SETTLE_MS = 1_000;
/** A load under this share of the one the last try failed at is tried at once. */
export const PROBE_LIGHTER = 0.8;

/** What a sample decides: gather on one socket, spread over all, or leave the group as it is. */
export type SpreadDecision = "gather" | "spread" | null;

/**
 * The decision for one sample: `busy` is the thread's CPU time over wall time in the last period
 * (0 to 1), `received` whether this socket got datagrams in it, `groupLoad` what all the group's
 * threads carried (in cores), `mayProbe` whether this socket may try gathering a moderate load
 * now. A thread that gets nothing has nothing to say about spreading; busy threads spread; when
 * the group's load is light, they gather.
 */
export function decideSpread(
  busy: number,
  received: boolean,
  groupLoad: number,
  mayProbe = false,
): SpreadDecision {
  if (busy > SPREAD_ABOVE && received) return "spread";
  if (groupLoad < GATHER_BELOW) return "gather";
  if (mayProbe && groupLoad < PROBE_BELOW) return "gather";
  return null;
}

/**
 * The tries of a group's first socket at gathering a moderate load (see PROBE_BELOW): when the
 * next may start, and whether the last one held. A load well under the one a try failed at is
 * tried at once, back-off or not: a peak's failed tries must not keep the light load after it
 * spread for a minute.
 */
export class GatherProbe {
  /** When the try under watch started (0: none), and the group's load then. */
  #since = 0;
  #load = 0;
  #after = 0;
  #backoff = PROBE_BACKOFF_MS;
  /** The group's load when the last try failed (Infinity: none failed since one held). */
  #failedAt = Infinity;

  /** Whether a try may start at `now` (ms) with the group carrying `load`. */
  allowed(now: number, load: number): boolean {
    return now >= this.#after || load < PROBE_LIGHTER * this.#failedAt;
  }

  /** The socket gathered `load` (above GATHER_BELOW) at `now`: a try, unless one is watched. */
  gathered(now: number, load: number): void {
    if (this.#since !== 0) return;
    this.#since = now;
    this.#load = load;
  }

  /** The group spread at `now`: a try younger than PROBE_WATCH_MS failed, so the next waits. */
  spread(now: number): void {
    if (this.#since > 0 && now - this.#since < PROBE_WATCH_MS) {
      this.#after = now + this.#backoff;
      this.#backoff = Math.min(2 * this.#backoff, PROBE_BACKOFF_MAX_MS);
      this.#failedAt = this.#load;
    }
    this.#since = 0;
  }

  /** A sample at `now` that did not spread: a try watched long enough held. */
  held(now: number): void {
    if (this.#since > 0 && now - this.#since >= PROBE_WATCH_MS) {
      this.#since = 0;
      this.#backoff = PROBE_BACKOFF_MS;
      this.#failedAt = Infinity;
    }
  }
}

/**
 * `ret #0`: every datagram to the group's first socket (a program returning an index past the
 * group falls back to the kernel's hash, so a group that shrank is still served).
 */
const GATHER_PROGRAM = program([[0x06, 0]]); // BPF_RET | BPF_K

/**
 * For kernels that cannot detach a program (before Linux 5.3): spread by the DNS ID, the payload's
 * first two bytes (`ldh [0]; mod #N; ret a`), since the kernel runs the program past the UDP header.
 */
function spreadProgram(sockets: number): Uint8Array {
  return program([[0x28, 0], [0x94, sockets], [0x16, 0]]); // BPF_LD|H|ABS, ALU|MOD|K, RET|A
}

/** A classic BPF program: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k } per instruction. */
function program(instructions: [code: number, k: number][]): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(8 * instructions.length));
  const view = new DataView(bytes.buffer);
  instructions.forEach(([code, k], i) => {
    view.setUint16(8 * i, code, true);
    view.setUint32(8 * i + 4, k, true);
  });
  return bytes;
}

const ENOENT = 2;

/** Samples a socket's thread and steers its group. */
export class SpreadSteering {
  readonly #c: Libc;
  readonly #fd: number;
  #group: UdpSpread;
  #lastWall = 0;
  #lastCpuNs = 0;
  #lastReceived = 0;
  /** When this socket last spread the group (0: never). */
  #spreadAt = 0;
  /** Its tries at gathering a moderate load: made by the main thread's socket only. */
  readonly #probe = new GatherProbe();
  /** Whether the kernel refused a program once: then the kernel's hash is left alone. */
  #unsupported = false;

  /**
   * A new socket leaves the group as it is: the first one starts on the kernel's hash and gathers
   * at its first light samples, and one that joins later (a thread started because the load grew)
   * must not gather a busy group.
   */
  constructor(c: Libc, fd: number, group: UdpSpread) {
    this.#c = c;
    this.#fd = fd;
    this.#group = group;
    if (group.mode === "always") this.#apply("spread");
  }

  /** The group's size and mode. */
  get group(): UdpSpread {
    return this.#group;
  }

  /** Changes the group's size or mode (a reload); "always" spreads at once. */
  set group(group: UdpSpread) {
    this.#group = group;
    if (group.mode === "always" || group.sockets <= 1) this.#apply("spread");
  }

  /**
   * Called by the socket's loop with the wall clock (ms) and its count of datagrams received;
   * does something once per SPREAD_PERIOD_MS.
   */
  sample(now: number, received: number): void {
    if (now - this.#lastWall < SPREAD_PERIOD_MS) return;
    const cpuNs = this.#cpuNs();
    const wallMs = now - this.#lastWall;
    const first = this.#lastWall === 0;
    const busy = (cpuNs - this.#lastCpuNs) / 1e6 / wallMs;
    const got = received > this.#lastReceived;
    this.#lastWall = now;
    this.#lastCpuNs = cpuNs;
    this.#lastReceived = received;
    const { mode, sockets } = this.#group;
    if (first || mode !== "auto" || sockets <= 1 || cpuNs < 0) return;
    const { loads, thread = 0 } = this.#group;
    loads?.report(thread, busy, now);
    const groupLoad = loads?.total(now) ?? busy * sockets;
    // Only the main thread tries: a gathered load lands on its socket, the group's first.
    const mayProbe = thread === 0 && this.#probe.allowed(now, groupLoad);
    let decision = decideSpread(busy, got, groupLoad, mayProbe);
    // Right after this socket spread, the other threads have not yet reported what they took
    // on, so the sum reads light: gathering on it flapped every look during a peak's first
    // seconds. The sum is trusted once every thread has had a look at the spread load.
    if (decision === "gather" && now - this.#spreadAt < SPREAD_SETTLE_MS) decision = null;
    if (decision === "spread") {
      this.#spreadAt = now;
      this.#group.onSpread?.();
      this.#probe.spread(now);
    } else this.#probe.held(now);
    if (decision === null) return;
    if (decision === "gather" && groupLoad >= GATHER_BELOW) this.#probe.gathered(now, groupLoad);
    // Told again even when unchanged: another socket of the group may have told otherwise.
    this.#apply(decision);
  }

  /** This thread's CPU time in nanoseconds, or -1 when it cannot be read. */
  #cpuNs(): number {
    return cpuClockNs(this.#c, CLOCK_THREAD_CPUTIME_ID);
  }

  #apply(decision: "gather" | "spread"): void {
    if (this.#unsupported) return;
    if (decision === "gather") {
      // An old kernel, or no BPF: the kernel's hash, as without this.
      if (!this.#attach(GATHER_PROGRAM)) this.#unsupported = true;
      return;
    }
    const c = this.#c;
    const none = new Uint8Array(4);
    if (c.setsockopt(this.#fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, none, 4) === 0) return;
    if (errno(c) === ENOENT) return; // nothing was attached
    this.#attach(spreadProgram(this.#group.sockets));
  }

  /** Makes `filter` the group's program; false when the kernel refuses it. */
  #attach(filter: Uint8Array): boolean {
    const c = this.#c;
    const fprog = new Uint8Array(new ArrayBuffer(16)); // struct sock_fprog { u16 len; ptr }
    const view = new DataView(fprog.buffer);
    view.setUint16(0, filter.length / 8, true);
    view.setBigUint64(8, BigInt(c.addressOf(filter, filter, 0n)), true);
    return c.setsockopt(this.#fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog, 16) === 0;
  }
}
