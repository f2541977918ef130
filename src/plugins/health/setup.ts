/** `health [ADDRESS] { lameduck DURATION }` */
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, fail, parseDuration, unknownProperty } from "../../corefile/args.ts";
import { parseHttpAddress, useHttpRoute } from "../../plugin/http.ts";
import { healthHandler, Lameduck } from "./handler.ts";

/** Where /health listens when no address is given: loopback only (CoreDNS binds every address). */
export const DEFAULT_HEALTH_ADDRESS = "127.0.0.1:8080";

/** Sets up health: a /health endpoint and, with `lameduck`, a delayed shutdown. */
export const setupHealth: Setup = (d, ctx) => {
  expectArgs(d, "health", 0, 1);
  const address = parseHttpAddress(d.args[0] ?? DEFAULT_HEALTH_ADDRESS, d, "health");
  let lameduckMs = 0;
  for (const p of d.block ?? []) {
    if (p.name !== "lameduck") unknownProperty(p, "health");
    expectArgs(p, "health", 1);
    lameduckMs = parseDuration(p.args[0], p, "health", "lameduck");
    if (lameduckMs <= 0) {
      fail(p, "health", `lameduck must be a positive duration, got '${p.args[0]}'`);
    }
  }
  useHttpRoute(ctx.resources, "health", address, "/health", healthHandler);
  if (lameduckMs > 0) {
    ctx.resources.perNode(
      `health|lameduck|${address.text}|${lameduckMs}`,
      () => new Lameduck(lameduckMs, ctx.log),
    );
  }
  // health answers over HTTP only; it adds nothing to the DNS chain (as in CoreDNS).
  return null;
};
