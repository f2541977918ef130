/** hosts(5) files: parsing, serialising, editing, the lookup table and the shared answering. */
export { parseIp, type ParsedIp, reverseName } from "./ip.ts";
export {
  checkName,
  formatProblems,
  type HostsParse,
  type HostsParseOptions,
  parseHosts,
  parseHostsStrict,
  type HostsProblem,
  type HostsRecord,
  HostsSyntaxError,
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
