/**
 * The hosts file as `etcdns hosts` reads and writes it: one etcd key, read at a revision, and
 * written only by a transaction on the mod revision it was read at (compare-and-swap), so two
 * admins never overwrite each other unseen. Every write is validated strictly first: a bad
 * file is refused with every bad line and its number, and nothing is written.
 */
import { type EtcdClient, explainEtcdError } from "../etcd/client.ts";
import type { KeyValue } from "../etcd/wire.ts";
import type { EtcdOptions } from "../etcd/options.ts";
import { formatProblems, type HostsProblem, parseHosts } from "../hostsfile/parse.ts";
import { errorMessage } from "../util/errors.ts";
import { err } from "./io.ts";

/** A refused or failed operation: printed, exit code 1. */
export class HostsError extends Error {}

/**
 * The key changed since it was read, so a whole-file write was refused: printed, exit code 3,
 * so a script can tell "someone else wrote first, look and retry" from any other failure.
 */
export class ConflictError extends HostsError {}

/** The placeholder the messages suggest for dropping every record. */
const PLACEHOLDER = "127.0.0.1 placeholder.invalid";

/** One versioned key in etcd holding a hosts file. */
export class HostsStore {
  constructor(
    readonly client: EtcdClient,
    readonly key: string,
    readonly etcd: EtcdOptions,
    /** --allow-empty: a value without a usable line may be written. */
    readonly allowEmpty: boolean,
  ) {}

  /** Runs an etcd call, turning its failure into a message that says what to check. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const text = errorMessage(e);
      if (/compacted/i.test(text)) {
        throw new HostsError(
          `${what}: that revision has been compacted away; 'etcdns hosts version' lists the ` +
            `revisions still available`,
        );
      }
      if (/request is too large|message larger than max/i.test(text)) {
        throw new HostsError(
          `${what}: the hosts file is larger than etcd accepts in one request; raise ` +
            `--max-request-bytes on the etcd servers (default 1.5 MiB) or split the file`,
        );
      }
      if (/future revision/i.test(text)) {
        throw new HostsError(`${what}: that revision is newer than etcd's current revision`);
      }
      throw new HostsError(`${what}: ${explainEtcdError(e, this.etcd)}`);
    }
  }

  /** The key's state (at `rev`, when given). */
  async read(
    rev?: number,
    keysOnly = false,
  ): Promise<{ kv: KeyValue | undefined; revision: number }> {
    const res = await this.call(
      `reading ${this.key}${rev ? ` at revision ${rev}` : ""}`,
      () =>
        this.client.range({
          key: this.key,
          revision: rev === undefined ? undefined : String(rev),
          keys_only: keysOnly,
        }),
    );
    return { kv: res.kvs[0], revision: Number(res.header.revision) };
  }

  /** Refuses `text` (from `source`) unless it parses without a problem. */
  validate(text: string, source: string): void {
    const { problems } = parseHosts(text);
    if (problems.length > 0) refuse(source, problems, this.key);
  }

  /**
   * Refuses a text without a usable line unless --allow-empty: nodes never serve such a value
   * (they keep their last good data), so writing it is almost always a mistake, e.g. a
   * truncated file or a failed `dump > file`. Returns a note to print after an allowed write,
   * else "".
   */
  checkNotEmpty(text: string, source: string): string {
    if (parseHosts(text).entryLines > 0) return "";
    const what = text.trim() === "" ? "is empty" : "has no entry (only blank lines and comments)";
    const nodes = "etcdns nodes never serve a hosts file without a usable line: they keep " +
      "serving their last good data";
    if (!this.allowEmpty) {
      throw new HostsError(
        `refused: ${source} ${what}; nothing was written to ${this.key}. ${nodes}, so this is ` +
          `most likely a mistake. To write it anyway, add --allow-empty; to drop every record, ` +
          `write a file with one placeholder line such as '${PLACEHOLDER}'`,
      );
    }
    return `note: ${this.key} now has no usable line (--allow-empty); ${nodes} (a node that ` +
      `starts now serves only its inline entries). To drop every record, write one ` +
      `placeholder line such as '${PLACEHOLDER}'`;
  }

  /**
   * Validates `text` strictly and writes `bytes` if the key's mod revision is still
   * `expectMod` (0: the key must not exist). Returns the new revision.
   */
  async write(text: string, bytes: Uint8Array, expectMod: number, source: string): Promise<number> {
    this.validate(text, source);
    const note = this.checkNotEmpty(text, source);
    const txn = await this.call(
      `writing ${this.key}`,
      () =>
        this.client.txn({
          compare: [{ key: this.key, target: "MOD", result: "EQUAL", mod_revision: expectMod }],
          success: [{ request_put: { key: this.key, value: bytes } }],
          failure: [],
        }),
    );
    if (!txn.succeeded) {
      const now = await this.read(undefined, true);
      const nowMod = now.kv ? Number(now.kv.mod_revision) : 0;
      throw new ConflictError(
        `${this.key} was changed by someone else since it was read (mod revision ${
          expectMod || "none"
        }, now ${nowMod ? nowMod : "deleted"}); nothing was written. ` +
          (expectMod && nowMod ? `See 'etcdns hosts diff ${expectMod} ${nowMod}', then ` : "") +
          `run the command again`,
      );
    }
    if (note) err(note);
    return Number(txn.header.revision);
  }
}

function refuse(source: string, problems: readonly HostsProblem[], key: string): never {
  throw new HostsError(
    `refused: ${problems.length} bad line${problems.length === 1 ? "" : "s"} in ${source}; ` +
      `nothing was written to ${key}\n${formatProblems(source, problems)}`,
  );
}

/** How many host names `text` has. */
export function countEntries(text: string): number {
  let n = 0;
  for (const r of parseHosts(text).records) n += r.names.length;
  return n;
}
