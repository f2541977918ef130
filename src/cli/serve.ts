/** `etcdns [flags]`: serve DNS from a Corefile, with CoreDNS's flags. */
import { VERSION } from "../version.ts";
import { PLUGINS } from "../plugins/registry.ts";
import { bannerLines, Server } from "../server/server.ts";
import { errorMessage } from "../util/errors.ts";
import { logger, writeLine } from "../util/log.ts";
import { parseFlags } from "./flags.ts";

const log = logger("etcdns");

/** The flags of the serve command (CoreDNS's names). */
export const SERVE_FLAGS = {
  conf: { type: "string" },
  "dns.port": { type: "string", default: "53" },
  pidfile: { type: "string" },
  quiet: { type: "boolean" },
  plugins: { type: "boolean" },
  version: { type: "boolean" },
} as const;

/** The version lines CoreDNS prints for -version, in our terms. */
export function versionLines(): string[] {
  return [`etcdns-${VERSION}`, `${Deno.build.os}/${Deno.build.arch}, deno ${Deno.version.deno}`];
}

/** Parses a port number for -dns.port. */
export function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new Error(`${what} must be a port number from 0 to 65535, got '${text}'`);
  }
  return port;
}

/** Which Corefile to read: -conf, else ./Corefile if present, else null (the default config). */
export function corefilePathFrom(conf: string | undefined): string | null {
  if (conf !== undefined && conf !== "") return conf;
  return exists("Corefile") ? "Corefile" : null;
}

/** Whether `path` exists (Deno's own call: node:fs would load Node's file system layer). */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs the server until SIGTERM/SIGINT. Returns the process exit code. */
export async function runServe(args: string[]): Promise<number> {
  const { values, rest } = parseFlags(args, SERVE_FLAGS);
  if (rest.length > 0) throw new Error(`unexpected argument '${rest[0]}'`);
  if (values.version) {
    versionLines().forEach((l) => writeLine(l));
    return 0;
  }
  if (values.plugins) {
    writeLine("Server types:\n  dns\n\nPlugins, in chain order:");
    PLUGINS.specs.forEach((p) => writeLine(`  dns.${p.name}`));
    return 0;
  }
  const dnsPort = parsePort(String(values["dns.port"]), "-dns.port");
  const server = new Server({
    plugins: PLUGINS,
    corefilePath: corefilePathFrom(values.conf as string),
    dnsPort,
  });

  const pidfile = values.pidfile as string | undefined;
  if (pidfile) Deno.writeTextFileSync(pidfile, `${Deno.pid}\n`);
  const removePidfile = () => {
    if (pidfile) {
      try {
        Deno.removeSync(pidfile);
      } catch { /* already gone */ }
    }
  };

  let loaded;
  try {
    loaded = await server.start();
  } catch (err) {
    removePidfile();
    await server.stop();
    throw err;
  }
  if (!values.quiet) {
    [...bannerLines(loaded.blocks), ...versionLines()].forEach((l) => writeLine(l));
  }

  const stopped = Promise.withResolvers<number>();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      Deno.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    server.stop().then(() => {
      removePidfile();
      stopped.resolve(0);
    });
  };
  addSignal("SIGTERM", () => stop("SIGTERM"));
  addSignal("SIGINT", () => stop("SIGINT"));
  addSignal("SIGUSR1", () => void server.reload("SIGUSR1"));
  return await stopped.promise;
}

function addSignal(signal: Deno.Signal, handler: () => void): void {
  try {
    Deno.addSignalListener(signal, handler);
  } catch (err) {
    // Windows knows only SIGINT and SIGBREAK; the rest are not an error there.
    log.debug(`cannot listen for ${signal}: ${errorMessage(err)}`);
  }
}
