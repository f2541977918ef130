/** Process-level hooks that plugins may trigger without holding a reference to the server. */

/** Reloads the Corefile; resolves true when the new config serves, false when the old one stays. */
type ReloadHandler = (reason: string) => Promise<boolean>;
let reloadHandler: ReloadHandler | null = null;

/** The server registers how it reloads; the `reload` plugin and SIGUSR1 call `requestReload`. */
export function onReloadRequest(handler: ReloadHandler | null): void {
  reloadHandler = handler;
}

/**
 * Asks the running server to re-read its Corefile. Resolves true when the new config serves,
 * false when the reload failed (or no server is running) and the old config keeps serving.
 */
export function requestReload(reason: string): Promise<boolean> {
  return reloadHandler?.(reason) ?? Promise.resolve(false);
}

/** What the server reports each time a config starts serving. */
export interface ActivatedConfig {
  /** Every file the config was read from: the Corefile and its imports (empty for the default). */
  readonly files: readonly string[];
}

type ActivationListener = (config: ActivatedConfig) => void;
const activationListeners = new Set<ActivationListener>();

/** Calls `listener` each time a config starts serving; returns the function that unsubscribes. */
export function onConfigActivated(listener: ActivationListener): () => void {
  activationListeners.add(listener);
  return () => activationListeners.delete(listener);
}

/** The server calls this when a config starts serving (start, and every successful reload). */
export function configActivated(config: ActivatedConfig): void {
  for (const listener of [...activationListeners]) listener(config);
}
