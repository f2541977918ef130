/**
 * Helpers for the forward, cache and loadbalance tests: set plugins up from Corefile text, build
 * query contexts, and run a tiny scriptable DNS server on loopback (UDP and TCP).
 */
import { parseCorefile } from "../../../src/corefile/mod.ts";
import {
  decode,
  type DnsMessage,
  encode,
  Flag,
  type OptRecord,
  replyTo,
} from "../../../src/dns/message.ts";
import { frame, FrameReader } from "../../../src/dns/framing.ts";
import type { Plugin, Setup, SetupContext } from "../../../src/plugin/plugin.ts";
import { pluginLogger } from "../../../src/util/log.ts";
import { type Proto, QueryContext } from "../../../src/plugin/query.ts";
import { ReadinessRegistry } from "../../../src/plugin/readiness.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { freePort } from "../../helpers/ports.ts";

/** Plugins set up from one server block, with the pool their resources live in. */
export interface Harness {
  plugins: Plugin[];
  pool: ResourcePool;
  close(): Promise<void>;
}

/** A SetupContext for the zones given, with resources from `pool`. */
export function setupContext(pool: ResourcePool, zones: string[], name: string): SetupContext {
  return {
    keys: [],
    zones,
    corefilePath: "Corefile",
    resources: pool.begin(),
    readiness: new ReadinessRegistry(),
    log: pluginLogger(name),
    bind: () => {},
  };
}

/** Runs `setup` on every `name` directive of the first server block of `corefile`. */
export async function setUp(setup: Setup, corefile: string, name: string): Promise<Harness> {
  const block = parseCorefile(corefile, { file: "Corefile" }).blocks[0];
  const pool = new ResourcePool();
  const ctx = setupContext(pool, [...new Set(block.keys.map((k) => k.zone))], name);
  const plugins = block.directives.filter((d) => d.name === name).map((d) => {
    const p = setup(d, ctx);
    if (!p) throw new Error("setup returned no plugin");
    return p;
  });
  await pool.start();
  await pool.commit();
  return { plugins, pool, close: () => pool.close() };
}

/** Setup errors: the message `setup` throws for `corefile`'s `name` directive. */
export function setupError(setup: Setup, corefile: string, name: string): string {
  const block = parseCorefile(corefile, { file: "Corefile" }).blocks[0];
  const pool = new ResourcePool();
  const ctx = setupContext(pool, [...new Set(block.keys.map((k) => k.zone))], name);
  try {
    for (const d of block.directives.filter((d) => d.name === name)) setup(d, ctx);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error("setup did not fail");
}

/** Options for `query`. */
export interface QueryOpts {
  id?: number;
  proto?: Proto;
  do?: boolean;
  cd?: boolean;
  /** EDNS UDP size (adds an OPT). */
  edns?: number;
}

const REMOTE: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 5353 };
const LOCAL: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 1053 };

/** A query context for `name`/`type`, as the server would build it. */
export function query(name: string, type = "A", opts: QueryOpts = {}): QueryContext {
  const additionals: OptRecord[] = opts.edns === undefined && !opts.do ? [] : [{
    type: "OPT",
    name: ".",
    udpPayloadSize: opts.edns ?? 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: opts.do ? 0x8000 : 0,
    options: [],
  }];
  const msg: DnsMessage = {
    id: opts.id ?? 4242,
    type: "query",
    flags: Flag.RD | (opts.cd ? Flag.CD : 0),
    questions: [{ name, type, class: "IN" }],
    answers: [],
    authorities: [],
    additionals,
  };
  return new QueryContext(msg, 40, opts.proto ?? "udp", REMOTE, LOCAL, ".");
}

/** A `next` that fails the test if called. */
export const noNext = (): Promise<never> => Promise.reject(new Error("next() must not be called"));

/** What a scripted upstream answers to one query: packets to send back (none: stay silent). */
export type Script = (
  request: DnsMessage,
  proto: Proto,
) => Uint8Array[] | Promise<Uint8Array[]>;

/** A reply to `request` with one A record, encoded. */
export function answerA(request: DnsMessage, ip: string, ttl = 300, patch?: Partial<DnsMessage>) {
  const reply = replyTo(request);
  reply.flags |= Flag.RA;
  reply.answers.push({ type: "A", name: request.questions[0].name, class: "IN", ttl, data: ip });
  return encode({ ...reply, ...patch });
}

/** How long a FakeUpstream keeps an idle TCP connection: longer than any test. */
const CONN_IDLE_MS = 120_000;

/** A tiny DNS server on 127.0.0.1 (UDP and TCP on one port) that runs a script per query. */
export class FakeUpstream {
  readonly port: number;
  /** Every query received, with its transport. */
  readonly seen: { request: DnsMessage; proto: Proto }[] = [];
  readonly #udp: Deno.DatagramConn;
  readonly #tcp: Deno.TcpListener;
  readonly #tasks = new Set<Promise<void>>();
  readonly #conns = new Set<Deno.TcpConn>();

  constructor(readonly script: Script) {
    this.port = freePort();
    this.#udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: this.port });
    this.#tcp = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#track(this.#serveUdp());
    this.#track(this.#serveTcp());
  }

  /** `127.0.0.1:PORT`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  #track(p: Promise<void>): void {
    const t = p.catch(() => {}).finally(() => this.#tasks.delete(t));
    this.#tasks.add(t);
  }

  async #serveUdp(): Promise<void> {
    for (;;) {
      const [data, from] = await this.#udp.receive();
      const request = decode(data);
      this.seen.push({ request, proto: "udp" });
      this.#track((async () => {
        for (const out of await this.script(request, "udp")) await this.#udp.send(out, from);
      })());
    }
  }

  async #serveTcp(): Promise<void> {
    for await (const conn of this.#tcp) {
      this.#conns.add(conn);
      this.#track(this.#serveConn(conn));
    }
  }

  async #serveConn(conn: Deno.TcpConn): Promise<void> {
    const reader = new FrameReader((into) => conn.read(into));
    try {
      for (;;) {
        // Forward keeps idle connections for reuse: wait as long as a test could.
        const message = await reader.next(CONN_IDLE_MS, CONN_IDLE_MS);
        if (message === null) return;
        const request = decode(message);
        this.seen.push({ request, proto: "tcp" });
        for (const out of await this.script(request, "tcp")) await conn.write(frame(out));
      }
    } finally {
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed by close() */ }
    }
  }

  /** Closes every open TCP connection (the server side of an idle-connection timeout). */
  dropConnections(): void {
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }

  /** Stops serving and waits until every task has ended. */
  async close(): Promise<void> {
    this.#udp.close();
    this.#tcp.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }
}
