/** etcdhosts: answers A, AAAA and PTR from a hosts file kept in etcd, entirely from memory. */
import { answerFromTable, type HostsAnswerOptions } from "../hosts/answer.ts";
import type { TableSource } from "../hosts/handler.ts";
import type { QueryContext } from "../../plugin/query.ts";
import type { HandlerResult, Next, Plugin } from "../../plugin/plugin.ts";

/** The etcdhosts plugin: the shared hosts answering over the table its source keeps. */
export class EtcdHostsPlugin implements Plugin {
  readonly name = "etcdhosts";

  constructor(readonly source: TableSource, readonly options: HostsAnswerOptions) {}

  handle(q: QueryContext, next: Next): HandlerResult | Promise<HandlerResult> {
    return answerFromTable(q, next, this.source.table, this.options);
  }
}
