/** Helpers for the hosts and etcdhosts plugin tests: set a plugin up from Corefile text, ask it. */
import { parseCorefile } from "../../../src/corefile/mod.ts";
import type { Directive, ServerBlock } from "../../../src/corefile/types.ts";
import { type DnsMessage, Rcode } from "../../../src/dns/message.ts";
import type { Plugin, Setup } from "../../../src/plugin/plugin.ts";
import { pluginLogger } from "../../../src/util/log.ts";
import { QueryContext } from "../../../src/plugin/query.ts";
import { ReadinessRegistry } from "../../../src/plugin/readiness.ts";
import { ResourcePool } from "../../../src/plugin/resources.ts";
import { queryMessage } from "../../helpers/query.ts";

/** A plugin set up from a Corefile, with the pool and readiness it registered in. */
export interface Harness {
  plugin: Plugin;
  pool: ResourcePool;
  readiness: ReadinessRegistry;
  /** Starts the resources setup asked for, as the server does before serving. */
  start(): Promise<void>;
  /** Closes every resource. */
  close(): Promise<void>;
}

/** The first server block of `corefile` and its directive named `name`. */
export function directiveOf(corefile: string, name: string): { block: ServerBlock; d: Directive } {
  const block = parseCorefile(corefile, { file: "Corefile" }).blocks[0];
  const d = block.directives.find((x) => x.name === name);
  if (!d) throw new Error(`no '${name}' directive in the test Corefile`);
  return { block, d };
}

/** Runs `setup` on the `name` directive of the first server block of `corefile`. */
export function setUp(setup: Setup, corefile: string, name: string): Harness {
  const { block, d } = directiveOf(corefile, name);
  const pool = new ResourcePool();
  const readiness = new ReadinessRegistry();
  const resources = pool.begin();
  const zones = [...new Set(block.keys.map((k) => k.zone))];
  const plugin = setup(d, {
    keys: block.keys,
    zones,
    corefilePath: "Corefile",
    resources,
    readiness,
    log: pluginLogger(name),
    bind: () => {},
  });
  if (!plugin) throw new Error("setup returned no plugin");
  return {
    plugin,
    pool,
    readiness,
    start: async () => {
      await pool.start();
      await pool.commit();
    },
    close: () => pool.close(),
  };
}

/** What asking a plugin gave. */
export interface Answer {
  /** The rcode the handler returned (a number) or that its reply carries. */
  rcode: number;
  reply: DnsMessage | null;
  /** Whether the plugin called next(). */
  passed: boolean;
}

const REMOTE: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 5353 };
const LOCAL: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 53 };

/** Sends one query through `plugin`; next() records that it was called and answers nothing. */
export async function ask(plugin: Plugin, name: string, type = "A"): Promise<Answer> {
  const q = new QueryContext(queryMessage(name, type), 30, "udp", REMOTE, LOCAL, ".");
  let passed = false;
  const result = await plugin.handle(q, () => {
    passed = true;
    return Promise.resolve(Rcode.NOERROR);
  });
  const reply = q.response;
  const rcode = typeof result === "number" ? result : reply ? reply.flags & 0xf : -1;
  return { rcode, reply, passed };
}

/** The answer section as `TYPE DATA` strings (with TTL) for compact assertions. */
export function records(a: Answer): string[] {
  return (a.reply?.answers ?? []).map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`);
}
