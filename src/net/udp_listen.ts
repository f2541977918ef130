/**
 * Opens a listening UDP socket: native (libc recvmmsg/sendmmsg, SO_REUSEPORT) on Linux when FFI
 * is granted for libc, else Deno.listenDatagram. Which path was taken, and why, is logged once
 * per reason at debug.
 */
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { libc } from "./libc.ts";
import { MMSG_ARCHES } from "./mmsg.ts";
import { DenoUdpSocket } from "./udp_deno.ts";
import { NativeUdpSocket } from "./udp_native.ts";
import type { UdpPath, UdpSocket, UdpSocketOptions } from "./udp_types.ts";

export type { UdpPacketHandler, UdpPath, UdpSocket, UdpSocketOptions } from "./udp_types.ts";
export { DEFAULT_COALESCE_US } from "./udp_native.ts";

const debug = logger("etcdns").debug;
const logged = new Set<string>();

/** The path asked for: the option, else ETCDNS_UDP, else "auto". */
function pathFor(options: UdpSocketOptions): UdpPath {
  if (options.path && options.path !== "auto") return options.path;
  let env: string | undefined;
  try {
    env = Deno.env.get("ETCDNS_UDP");
  } catch { /* no --allow-env: auto */ }
  if (env === "native" || env === "deno") return env;
  return "auto";
}

/**
 * A UDP socket bound on `hostname` (an IP literal; "::" is dual-stack) and `port` (0: the kernel picks one).
 * Throws when the address cannot be bound (or, with path "native", when the native path fails).
 */
export function openUdpSocket(
  hostname: string,
  port: number,
  options: UdpSocketOptions = {},
): UdpSocket {
  const path = pathFor(options);
  const reusePort = options.reusePort ?? false;
  if (path !== "deno") {
    try {
      const socket = NativeUdpSocket.open(hostname, port, { ...options, reusePort });
      once(`udp: native sockets (recvmmsg/sendmmsg, batch ${options.batch ?? 32})`);
      return socket;
    } catch (err) {
      if (path === "native") throw err;
      // A taken port fails the Deno path too, with Deno's own message.
      once(`udp: Deno sockets: the native path is not available: ${errorMessage(err)}`);
    }
  } else {
    once("udp: Deno sockets (asked for)");
  }
  return DenoUdpSocket.open(hostname, port, options.onDropped);
}

/**
 * Whether `openUdpSocket` would take the native path here (Linux x86_64/aarch64, --allow-ffi for
 * libc, ETCDNS_UDP not "deno"): where it would not, sockets cannot share a port, so run one
 * worker.
 */
export function nativeUdpAvailable(options: Pick<UdpSocketOptions, "path"> = {}): boolean {
  return pathFor(options) !== "deno" && libc() !== null && MMSG_ARCHES.includes(Deno.build.arch);
}

function once(line: string): void {
  if (logged.has(line)) return;
  logged.add(line);
  debug(line);
}
