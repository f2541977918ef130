/** ready: `/ready` answers 200 OK once every plugin of the serving config is ready, else 503. */
import type { Logger } from "../../util/log.ts";
import { activeReadiness } from "../../plugin/readiness.ts";
import type { Resource } from "../../plugin/resources.ts";
import { TEXT } from "../../plugin/http.ts";

/** Set once the process starts shutting down (during health's lameduck, for instance). */
export class ShutdownFlag implements Resource {
  down = false;

  beforeStop(): Promise<void> {
    this.down = true;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The /ready handler. It asks the checks of whichever config is serving at request time, so a
 * reload changes what it reports without touching the listener. The body names the plugins
 * that are not ready, sorted and comma-separated, as CoreDNS writes them.
 */
export function readyHandler(shutdown: ShutdownFlag, log: Logger): (req: Request) => Response {
  return () => {
    if (shutdown.down) {
      return new Response("Shutting down", { status: 503, headers: TEXT });
    }
    const notReady = activeReadiness().notReady();
    if (notReady.length === 0) return new Response("OK", { status: 200, headers: TEXT });
    const list = notReady.join(",");
    log.info(`Plugins not ready: "${list}"`);
    return new Response(list, { status: 503, headers: TEXT });
  };
}
