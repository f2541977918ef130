/** `etcdns [flags]`: serve DNS from a Corefile, with CoreDNS's flags. */
import { VERSION } from "../version.ts";
import { PLUGINS } from "../plugins/registry.ts";
import { bannerLines, Server } from "../server/server.ts";
import { MallocTrimmer } from "../server/malloc_trim.ts";
import { errorMessage } from "../util/errors.ts";
import { logger, writeLine } from "../util/log.ts";
import { parseFlags } from "./flags.ts";
import { pathExists } from "../corefile/glob.ts";
import { libcUnavailableReason } from "../net/libc.ts";
import { nativeUdpAvailable } from "../net/udp_listen.ts";
import { MMSG_ARCHES } from "../net/mmsg.ts";

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
  return pathExists("Corefile") ? "Corefile" : null;
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
    threads: {
      module: new URL("./worker.ts", import.meta.url),
      nativeUnavailable: nativeUdpUnavailable(),
      // During the start a death fails the start; afterwards it stops the node (see below).
      onWorkerDeath: (message) => workerDied?.(message),
    },
  });
  let workerDied: ((message: string) => void) | null = null;

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
  const trimmer = new MallocTrimmer();
  trimmer.start();

  const stopped = Promise.withResolvers<number>();
  let stopping = false;
  const stop = (signal: string, code = 0) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      Deno.exit(1);
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    trimmer.stop();
    server.stop().then(() => {
      removePidfile();
      stopped.resolve(code);
    });
  };
  // A dead worker thread leaves its socket bound and unserved: a share of the queries would go
  // unanswered. As an uncaught error in the main thread would, it ends the process (exit 1, so
  // systemd's Restart=on-failure brings the node back, with its slot), but gracefully.
  workerDied = (message) => {
    log.error(message);
    stop("a worker thread died", 1);
  };
  addSignal("SIGTERM", () => stop("SIGTERM"));
  addSignal("SIGINT", () => stop("SIGINT"));
  addSignal("SIGUSR1", () => void server.reload("SIGUSR1"));
  return await stopped.promise;
}

/**
 * Why the native UDP socket (SO_REUSEPORT, recvmmsg) cannot serve here, or null when it can:
 * net's own decision (`nativeUdpAvailable`), explained for the log line.
 */
function nativeUdpUnavailable(): string | null {
  if (nativeUdpAvailable()) return null;
  if (Deno.env.get("ETCDNS_UDP") === "deno") return "ETCDNS_UDP=deno asks for Deno's sockets";
  if (!MMSG_ARCHES.includes(Deno.build.arch)) {
    return `native sockets are laid out for ${MMSG_ARCHES.join(" and ")} only`;
  }
  return libcUnavailableReason() || "libc cannot be loaded through FFI";
}

function addSignal(signal: Deno.Signal, handler: () => void): void {
  try {
    Deno.addSignalListener(signal, handler);
  } catch (err) {
    // Windows knows only SIGINT and SIGBREAK; the rest are not an error there.
    log.debug(`cannot listen for ${signal}: ${errorMessage(err)}`);
  }
}
