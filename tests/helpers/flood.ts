/**
 * A bounded flood of malformed UDP packets, as an attacker would send: every packet passes the
 * header checks (long enough, QR clear) and then fails to decode, so each one costs the server a
 * decode attempt and a FORMERR reply. Used by the hostile UDP test and scripts/bench/memory.ts.
 */

/** The malformed packets the flood cycles through, each with the id set per packet. */
export const MALFORMED: readonly Uint8Array[] = [
  // One question whose first label claims 63 bytes but the packet ends after 3.
  Uint8Array.of(0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 0x61, 0x62, 0x63),
  // One question whose name is a compression pointer to itself (a loop).
  Uint8Array.of(0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1),
  // Claims 1 question and 200 answers; only the question is there.
  Uint8Array.of(0, 0, 0x01, 0, 0, 1, 0, 200, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1),
  // A full 512 bytes of garbage behind a query header (a larger packet to copy and reject).
  (() => {
    const p = new Uint8Array(512).fill(0xff);
    p.set([0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    return p;
  })(),
];

/** Options for `floodMalformed`. */
export interface FloodOptions {
  /** Packets to send. */
  count: number;
  /** Sends in flight at once (awaited as one batch). Default 256. */
  window?: number;
  /** Source sockets, so per-source state (rate limits, metrics) sees several clients. Default 4. */
  sockets?: number;
  /** Stop after this long even if not all were sent. Default 60 s. */
  timeoutMs?: number;
  /** Packets per second at most (default: as fast as the sockets take them). */
  pps?: number;
  /**
   * Keep at most this many packets unanswered: the flood then goes as fast as the server
   * answers, so it handles (nearly) every packet instead of the kernel dropping most of them.
   * A reply missing for 100 ms counts as lost. Default: no limit (an open-loop flood).
   */
  unanswered?: number;
}

/** What a flood did. */
export interface FloodResult {
  /** Packets sent. */
  sent: number;
  /** Replies read back (FORMERR), counted until 500 ms after the last send. */
  answered: number;
  /** How long sending took. */
  ms: number;
}

/** Sends `count` malformed packets to 127.0.0.1:port as fast as the sockets allow (or at
 * `pps`), counting the replies that come back, so a caller sees how many the server handled. */
export async function floodMalformed(port: number, opts: FloodOptions): Promise<FloodResult> {
  const window = opts.window ?? 256;
  const conns = Array.from(
    { length: opts.sockets ?? 4 },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const packets = MALFORMED.map((p) => p.slice());
  const started = performance.now();
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let sent = 0;
  let answered = 0;
  let lost = 0;
  let wake: (() => void) | null = null;
  const readers = conns.map(async (c) => {
    const buffer = new Uint8Array(512);
    try {
      for (;;) {
        await c.receive(buffer);
        answered++;
        wake?.();
      }
    } catch { /* closed */ }
  });
  /** Waits until at most `limit` packets are unanswered, writing off as lost what a 100 ms
   * wait without progress leaves. */
  const answeredUpTo = async (limit: number) => {
    while (sent - answered - lost > limit) {
      const before = answered;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, 100);
      });
      clearTimeout(timer);
      wake = null;
      if (answered === before) lost = sent - answered;
    }
  };
  let ms = 0;
  try {
    while (sent < opts.count && Date.now() < deadline) {
      const batch: Promise<number>[] = [];
      for (let i = 0; i < window && sent < opts.count; i++, sent++) {
        const p = packets[sent % packets.length];
        p[0] = (sent >> 8) & 0xff;
        p[1] = sent & 0xff;
        batch.push(conns[sent % conns.length].send(p, target));
      }
      await Promise.all(batch);
      if (opts.unanswered !== undefined) await answeredUpTo(opts.unanswered);
      if (opts.pps) {
        const ahead = sent / opts.pps * 1000 - (performance.now() - started);
        if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
      }
    }
    ms = performance.now() - started;
    // Replies to the last packets are still on their way.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    for (const c of conns) c.close();
    await Promise.all(readers);
  }
  return { sent, answered, ms };
}
