/** The etcdns release version, printed by `-version` and in the startup banner. */
export const VERSION = "0.1.0";
