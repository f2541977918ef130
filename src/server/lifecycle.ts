/** Process-level hooks that plugins may trigger without holding a reference to the server. */

type ReloadHandler = (reason: string) => void;
let reloadHandler: ReloadHandler | null = null;

/** The server registers how it reloads; the `reload` plugin and SIGUSR1 call `requestReload`. */
export function onReloadRequest(handler: ReloadHandler | null): void {
  reloadHandler = handler;
}

/** Asks the running server to re-read its Corefile. */
export function requestReload(reason: string): void {
  reloadHandler?.(reason);
}
