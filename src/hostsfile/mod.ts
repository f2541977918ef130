/** hosts(5) files: parsing, serialising, editing, and the lookup table. */
export { type ParsedIp, parseIp, reverseName } from "./ip.ts";
export {
  checkName,
  formatProblems,
  type HostsParse,
  type HostsParseOptions,
  type HostsProblem,
  type HostsRecord,
  HostsSyntaxError,
  parseHosts,
  parseHostsStrict,
} from "./parse.ts";
export { HostsTable, type HostsTableOptions } from "./table.ts";
export {
  addEntry,
  checkEntryArgs,
  deleteEntry,
  type EditResult,
  formatHostsLine,
  purgeName,
} from "./edit.ts";
export { unifiedDiff } from "./diff.ts";
