/**
 * A worker thread's copy of a hosts table: the hosts file's (HostsFileSource) or the one in etcd
 * (etcdhosts' EtcdHostsSource). The main thread reads the file or watches etcd, once per node;
 * each new set of records reaches the workers through src/plugin/shared_state.ts and is rebuilt
 * into a table here, with the block's own inline entries, as the sources build it.
 */
import type { HostsRecord } from "../../hostsfile/parse.ts";
import { HostsTable } from "../../hostsfile/table.ts";
import { followState } from "../../plugin/shared_state.ts";
import type { Resource } from "../../plugin/resources.ts";

/** What a hosts source publishes for the replicas in worker threads: plain data. */
export interface PublishedHosts {
  /** The records read (the inline ones each replica has from the Corefile). */
  records: HostsRecord[];
}

/** The table a worker answers from; replaced whole when the main thread publishes. */
export class HostsReplica implements Resource {
  /** The current table: the inline entries until the first records arrive. */
  table: HostsTable;
  #loaded = false;
  #stop: (() => void) | null = null;

  constructor(
    readonly stateKey: string,
    readonly inline: readonly HostsRecord[],
    readonly reverse: boolean,
  ) {
    this.table = HostsTable.build([inline], { reverse });
  }

  /** Whether records have arrived from the main thread. */
  get loaded(): boolean {
    return this.#loaded;
  }

  start(): Promise<void> {
    this.#stop = followState(this.stateKey, (value) => {
      const { records } = value as PublishedHosts;
      this.table = HostsTable.build([records, this.inline], { reverse: this.reverse });
      this.#loaded = true;
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#stop?.();
    this.#stop = null;
    return Promise.resolve();
  }
}
