/** `etcdns check [-conf FILE] [--json]`: validates a Corefile without serving it. */
import { keyString } from "../corefile/types.ts";
import { buildConfig, loadPlugins, orderDirectives } from "../server/config.ts";
import { ResourcePool } from "../plugin/resources.ts";
import { Server } from "../server/server.ts";
import { PLUGINS } from "../plugins/registry.ts";
import { writeLine } from "../util/log.ts";
import { parseFlags } from "./flags.ts";
import { corefilePathFrom, parsePort } from "./serve.ts";

/** One server block as `check --json` prints it. */
export interface CheckedBlock {
  keys: string[];
  directives: string[];
}

/**
 * Parses the Corefile and runs every plugin's setup (which opens nothing), so that any error a
 * start would report about the file is reported here. Returns 0 when valid; throws otherwise.
 */
export async function runCheck(args: string[]): Promise<number> {
  const { values, rest } = parseFlags(args, {
    conf: { type: "string" },
    "dns.port": { type: "string", default: "53" },
    json: { type: "boolean" },
  });
  if (rest.length > 0) throw new Error(`unexpected argument '${rest[0]}'`);
  const corefilePath = corefilePathFrom(values.conf as string);
  const server = new Server({
    plugins: PLUGINS,
    corefilePath,
    dnsPort: parsePort(String(values["dns.port"]), "-dns.port"),
  });
  const parsed = server.readCorefile();
  const pool = new ResourcePool();
  let workers: number | null;
  try {
    await loadPlugins(parsed.blocks, PLUGINS);
    ({ workers } = buildConfig(parsed.blocks, {
      plugins: PLUGINS,
      corefilePath: corefilePath ?? "",
      resources: pool.begin(),
    }));
  } finally {
    await pool.abort();
  }
  const blocks: CheckedBlock[] = parsed.blocks.map((b) => ({
    keys: b.keys.map(keyString),
    directives: orderDirectives(b, PLUGINS).map((d) => d.name),
  }));
  if (values.json) {
    writeLine(JSON.stringify(blocks, null, 2));
  } else {
    parsed.warnings.forEach((w) => writeLine(`warning: ${w}`));
    writeLine(`${corefilePath ?? "<default>"}: OK, ${blocks.length} server block(s)`);
    for (const b of blocks) {
      writeLine(b.keys.join(" "));
      writeLine(`    ${b.directives.join(", ") || "(no plugins: every query is REFUSED)"}`);
    }
    // The thread count is process-wide, so it is not part of any block's listing (nor of --json).
    writeLine(
      workers === null
        ? `workers: one per core (${navigator.hardwareConcurrency} here) where the native UDP socket works, else 1`
        : `workers: ${workers}`,
    );
  }
  return 0;
}
