/** hosts(5) files: parsing, serialising, editing, the lookup table and the shared answering. */
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
  formatHosts,
  formatHostsLine,
  purgeName,
} from "./edit.ts";
export { answerFromTable, type HostsAnswerOptions } from "./answer.ts";
export { DEFAULT_HOSTS_TTL, type HostsBlockConfig, parseHostsBlock } from "./block.ts";
export { unifiedDiff } from "./diff.ts";
