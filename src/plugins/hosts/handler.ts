/** hosts: answers A, AAAA and PTR from a local hosts(5) file and inline entries. */
import { answerFromTable, type HostsAnswerOptions } from "./answer.ts";
import type { HostsTable } from "../../hostsfile/table.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";

/** Where the plugin reads its current table from; reloads replace the table whole. */
export interface TableSource {
  readonly table: HostsTable;
}

/** The hosts plugin: the shared hosts answering over a file-backed table. */
export class HostsPlugin implements Plugin {
  readonly name = "hosts";

  constructor(readonly source: TableSource, readonly options: HostsAnswerOptions) {}

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    return answerFromTable(q, next, this.source.table, this.options);
  }
}
