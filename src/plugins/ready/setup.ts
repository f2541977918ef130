/** `ready [ADDRESS]` */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock } from "../../corefile/args.ts";
import { parseHttpAddress, useHttpRoute } from "../../plugin/http.ts";
import { readyHandler, ShutdownFlag } from "./handler.ts";

/** Where /ready listens when no address is given: loopback only (CoreDNS binds every address). */
export const DEFAULT_READY_ADDRESS = "127.0.0.1:8181";

/** Sets up ready: a /ready endpoint reporting the readiness of the serving config's plugins. */
export const setupReady: Setup = (d, ctx) => {
  expectArgs(d, "ready", 0, 1);
  expectNoBlock(d, "ready");
  const address = parseHttpAddress(d.args[0] ?? DEFAULT_READY_ADDRESS, d, "ready");
  // One flag per process, shared by every /ready address, kept while any config uses ready.
  const shutdown = ctx.resources.perNode("ready|shutdown", () => new ShutdownFlag());
  if (shutdown === null) return null; // a worker thread: /ready is the main thread's
  useHttpRoute(ctx.resources, "ready", address, "/ready", readyHandler(shutdown, ctx.log));
  // ready answers over HTTP only; it adds nothing to the DNS chain (as in CoreDNS).
  return null;
};
