/** health: `/health` answers 200 OK while the process runs; lameduck delays the shutdown. */
import type { Logger } from "../../util/log.ts";
import type { Resource } from "../../plugin/resources.ts";
import { TEXT } from "../../plugin/http.ts";

/** Answers /health. Being able to answer is the health: there is nothing else to check. */
export function healthHandler(): Response {
  return new Response("OK", { status: 200, headers: TEXT });
}

/**
 * Lame duck mode: on shutdown, wait before anything closes, so that /health still answers OK
 * and DNS is still served while load balancers and clients move away.
 */
export class Lameduck implements Resource {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | null = null;

  constructor(readonly durationMs: number, readonly log: Logger) {}

  beforeStop(): Promise<void> {
    this.log.info(`Going into lameduck mode for ${goDuration(this.durationMs)}`);
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, this.durationMs);
    });
  }

  close(): Promise<void> {
    // A shutdown that does not wait for beforeStop (none today) must not leave the timer behind.
    clearTimeout(this.#timer);
    this.#wake?.();
    return Promise.resolve();
  }
}

/** A duration as Go prints it in CoreDNS's log line: 500ms, 2s, 1.5s. */
function goDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}
