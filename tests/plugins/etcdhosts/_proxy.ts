/**
 * A loopback TCP proxy that a test can cut and restore, so that a client loses etcd while etcd
 * itself keeps running (and can be written to and compacted meanwhile).
 */

/** A running proxy. */
export interface CutProxy {
  /** `http://127.0.0.1:PORT`, to use as the etcd endpoint. */
  readonly endpoint: string;
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://host:port`). */
export function startProxy(target: string): CutProxy {
  const url = new URL(target);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const pumps = new Set<Promise<void>>();
  let down = false;

  const closeQuietly = (c: Deno.Conn) => {
    open.delete(c);
    try {
      c.close();
    } catch {
      // already closed
    }
  };

  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // either side went away
    }
    closeQuietly(from);
    closeQuietly(to);
  };

  const serve = async (client: Deno.Conn) => {
    if (down) return closeQuietly(client);
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    } catch {
      return closeQuietly(client);
    }
    open.add(upstream);
    await Promise.all([pipe(client, upstream), pipe(upstream, client)]);
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        const p = serve(conn).finally(() => pumps.delete(p));
        pumps.add(p);
      }
    } catch {
      // listener closed
    }
  })();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const c of [...open]) closeQuietly(c);
    },
    restore() {
      down = false;
    },
    async close() {
      down = true;
      listener.close();
      for (const c of [...open]) closeQuietly(c);
      await accepting;
      await Promise.all([...pumps]);
    },
  };
}
