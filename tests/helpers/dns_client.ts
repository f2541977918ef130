/** A raw DNS client for tests that need exact bytes (fuzzing, malformed packets, TCP framing). */
import { frame, FrameReader } from "../../src/dns/framing.ts";

/** Sends `packet` over UDP to 127.0.0.1:port; resolves with the reply, or null on timeout. */
export async function udpExchange(
  port: number,
  packet: Uint8Array,
  timeoutMs = 2000,
): Promise<Uint8Array | null> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await conn.send(packet, { transport: "udp", hostname: "127.0.0.1", port });
    const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
    const reply = await Promise.race([conn.receive().then(([data]) => data), timeout]);
    return reply;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

/**
 * Sends each packet, framed, on one TCP connection to `hostname`:port and reads framed replies
 * until there is one per packet or none arrives within `idleMs`.
 */
export async function tcpExchange(
  port: number,
  packets: Uint8Array[],
  { hostname = "127.0.0.1", idleMs = 2000 } = {},
): Promise<Uint8Array[]> {
  const conn = await Deno.connect({ hostname, port });
  try {
    for (const p of packets) await conn.write(frame(p));
    const reader = new FrameReader((into) => conn.read(into));
    const replies: Uint8Array[] = [];
    while (replies.length < packets.length) {
      const reply = await reader.next(idleMs, idleMs);
      if (reply === null) break;
      replies.push(reply);
    }
    return replies;
  } finally {
    conn.close();
  }
}

/**
 * Sends many UDP queries to 127.0.0.1:port from one socket, at most `window` in flight, and
 * returns each reply (by position; null if none came). Queries are told apart by their id,
 * which this sets to the query's position modulo 65536; with more than 65536 queries, only
 * `window` are ever in flight, so ids in flight never collide. Unanswered queries are sent
 * again up to `retries` times; every wait is bounded by `timeoutMs`.
 */
export async function udpSweep(
  port: number,
  queries: Uint8Array[],
  { window = 32, retries = 2, timeoutMs = 1000 } = {},
): Promise<(Uint8Array | null)[]> {
  const replies: (Uint8Array | null)[] = queries.map(() => null);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const target = { transport: "udp" as const, hostname: "127.0.0.1", port };
  const inFlight = new Map<number, number>(); // id -> position
  let pending: Promise<[Uint8Array, Deno.Addr]> | null = null;
  const receiveOne = async (): Promise<boolean> => {
    pending ??= conn.receive();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
    const got = await Promise.race([pending, timeout]);
    clearTimeout(timer);
    if (got === null) return false;
    pending = null;
    const [data] = got;
    const id = (data[0] << 8) | data[1];
    const at = inFlight.get(id);
    if (at !== undefined) {
      inFlight.delete(id);
      replies[at] = data;
    }
    return true;
  };
  try {
    for (let round = 0; round <= retries; round++) {
      const todo = replies.flatMap((r, i) => (r === null ? [i] : []));
      if (todo.length === 0) break;
      inFlight.clear();
      for (const i of todo) {
        while (inFlight.size >= window) {
          if (!await receiveOne()) inFlight.clear(); // lost: retried in the next round
        }
        const q = queries[i].slice();
        q[0] = (i >> 8) & 0xff;
        q[1] = i & 0xff;
        inFlight.set(i & 0xffff, i);
        await conn.send(q, target);
      }
      while (inFlight.size > 0) if (!await receiveOne()) break;
    }
    return replies;
  } finally {
    (pending as Promise<unknown> | null)?.catch(() => {}); // closing rejects the last receive
    (pending as Promise<unknown> | null)?.catch(() => {}); // closing rejects the last receive
    conn.close();
  }
}
