/**
 * `etcdns hosts`: manage the hosts file that etcdhosts serves from etcd, compatible with
 * dnsctl (dump, upload, edit, version/history, diff, rollback, add, del, purge, config).
 *
 * This module is the command line: flags, arity, dispatch and exit codes. The settings come
 * from settings.ts, the versioned store from hosts_store.ts, the editor loop from
 * hosts_editor.ts and the other commands from hosts_commands.ts.
 */
import { withEtcd } from "../etcd/pool.ts";
import { DEFAULT_KEY } from "../plugins/etcdhosts/setup.ts";
import { errorMessage } from "../util/errors.ts";
import { EXAMPLE_CONFIG } from "./config.ts";
import { type FlagValues, parseFlags, UsageError } from "./flags.ts";
import {
  add,
  type CommandOptions,
  del,
  diff,
  dump,
  purge,
  rollback,
  upload,
  version,
} from "./hosts_commands.ts";
import { edit } from "./hosts_editor.ts";
import { ConflictError, HostsStore } from "./hosts_store.ts";
import { err, out } from "./io.ts";
import {
  ETCD_FLAGS_USAGE,
  HOSTS_SETTINGS_SPECS,
  type HostsSettings,
  resolveHostsSettings,
} from "./settings.ts";

const USAGE = `usage: etcdns hosts [SETTINGS] COMMAND [ARGS]

commands:
  dump [-o FILE] [-r REV]   print the hosts file (as of revision REV), or write it to FILE
  upload FILE               replace the hosts file with FILE ('-' reads stdin)
  edit                      edit it in $VISUAL, else $EDITOR, else vi
  version                   list its versions back to the last compaction (alias: history)
  diff REV1 REV2            show what changed between two revisions
  rollback REV              make the content of revision REV the current version
  add IP NAME...            add host names for an address
  del IP NAME               remove a host name from an address
  purge NAME                remove a host name from every address
  config                    print an example settings file

A write that leaves no usable line (an empty file, blank lines or comments only) is refused:
nodes never serve such a value, they keep their last good data. --allow-empty writes it anyway
(upload, edit, rollback, del, purge). To drop every record, write one placeholder line, e.g.
'127.0.0.1 placeholder.invalid'.

Every write is a compare-and-swap on the revision that was read. add, del and purge re-read and
re-apply their change when someone else wrote first (up to 20 tries), so parallel runs all
succeed. upload, edit and rollback replace the whole file: they refuse instead, with exit code 3.

exit codes: 0 done, 1 failed or refused, 2 usage error, 3 the key was changed by someone else
since it was read (upload, edit, rollback; add/del/purge after 20 lost races); nothing written.

settings (flags win over files):
  --config FILE             YAML settings (default ~/.etcdns.yaml, else dnsctl's ~/.dnsctl.yaml)
  -conf COREFILE            use the etcd settings and key of the Corefile's etcdhosts block
  --key KEY                 the etcd key of the hosts file (default ${DEFAULT_KEY})
${ETCD_FLAGS_USAGE}`;

const FLAGS = {
  ...HOSTS_SETTINGS_SPECS,
  out: { type: "string", short: "o" },
  rev: { type: "string", short: "r" },
  help: { type: "boolean", short: "h" },
  "allow-empty": { type: "boolean" },
} as const;

type Command = (store: HostsStore, args: string[], options: CommandOptions) => Promise<number>;

/** Each command and the arguments it takes: [min, max, their names for messages]. */
const COMMANDS: Record<string, { run: Command; arity: [number, number, string] }> = {
  dump: { run: dump, arity: [0, 0, ""] },
  upload: { run: upload, arity: [1, 1, "FILE"] },
  edit: { run: edit, arity: [0, 0, ""] },
  version: { run: version, arity: [0, 0, ""] },
  history: { run: version, arity: [0, 0, ""] },
  diff: { run: diff, arity: [2, 2, "REV1 REV2"] },
  rollback: { run: rollback, arity: [1, 1, "REV"] },
  add: { run: add, arity: [2, Infinity, "IP NAME..."] },
  del: { run: del, arity: [2, 2, "IP NAME"] },
  purge: { run: purge, arity: [1, 1, "NAME"] },
};

/** The commands that may leave the key without a usable line. */
const WRITERS = ["upload", "edit", "rollback", "del", "purge"];

/**
 * Runs `etcdns hosts ARGS...`; returns the exit code (0 ok, 1 failed or refused, 2 usage, 3 the
 * key changed since it was read).
 */
export async function runHostsCommand(args: string[]): Promise<number> {
  try {
    const { command, positionals, values } = parseCommandLine(args);
    if (values.help || command === "help") {
      out(USAGE);
      return 0;
    }
    if (command === "config") {
      out(EXAMPLE_CONFIG);
      return 0;
    }
    const settings = resolveHostsSettings(values);
    const { run, arity: [min, max, names] } = COMMANDS[command];
    if (positionals.length < min || positionals.length > max) {
      const want = names ? ` ${names}` : " (no arguments)";
      throw new UsageError(`'${command}' takes${want}, got ${positionals.length} argument(s)`);
    }
    return await withEtcd(settings.etcd, (client) => {
      const store = new HostsStore(client, settings.key, settings.etcd, values["allow-empty"]);
      return run(store, positionals, { out: values.out, rev: values.rev });
    });
  } catch (e) {
    if (e instanceof UsageError) {
      err(`etcdns hosts: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    err(`etcdns hosts: ${errorMessage(e)}`);
    return e instanceof ConflictError ? 3 : 1;
  }
}

/** The settings `etcdns hosts ARGS...` would use (for tests); throws a UsageError. */
export function hostsSettings(args: string[]): HostsSettings {
  return resolveHostsSettings(parseCommandLine(args).values);
}

function parseCommandLine(args: string[]): {
  command: string;
  positionals: string[];
  values: FlagValues<typeof FLAGS>;
} {
  const { values, rest } = parseFlags(args, FLAGS);
  const [command = "help", ...positionals] = rest;
  if (command !== "help" && command !== "config" && !(command in COMMANDS)) {
    throw new UsageError(`unknown command '${command}'`);
  }
  if (command !== "dump" && (values.out !== undefined || values.rev !== undefined)) {
    throw new UsageError(`-o and -r belong to 'dump', not '${command}'`);
  }
  if (values["allow-empty"] && !WRITERS.includes(command)) {
    throw new UsageError(`--allow-empty belongs to ${WRITERS.join(", ")}, not '${command}'`);
  }
  return { command, positionals, values };
}
