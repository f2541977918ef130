/**
 * The module every worker thread runs (`workers N`): the registry's plugins, served on the
 * thread's own UDP sockets. The main thread starts it (src/server/workers.ts); `deno compile`
 * embeds it through scripts/compile's `--include`.
 */
import { PLUGINS } from "../plugins/registry.ts";
import { runWorkerThread } from "../server/worker_thread.ts";

runWorkerThread(PLUGINS);
