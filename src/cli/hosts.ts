/**
 * `etcdns hosts`: manage the hosts file that etcdhosts serves from etcd, compatible with
 * dnsctl (dump, upload, edit, version/history, diff, rollback, add, del, purge, config).
 *
 * Every write is validated strictly first (a bad file is refused with every bad line and its
 * number, and nothing is written) and is an etcd transaction conditioned on the key's mod
 * revision as read, so a concurrent change by someone else is reported, never overwritten.
 */
import { doubleDashLongFlags } from "./flags.ts";
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import type { Etcd3, IKeyValue } from "etcd3";
import { loadCorefile } from "../corefile/mod.ts";
import { connectEtcd, explainEtcdError } from "../etcd/client.ts";
import {
  DEFAULT_ENDPOINT,
  DEFAULT_TIMEOUT_MS,
  type EtcdOptions,
  normaliseEndpoint,
} from "../etcd/options.ts";
import { unifiedDiff } from "../hostsfile/diff.ts";
import {
  addEntry,
  checkEntryArgs,
  deleteEntry,
  type EditResult,
  purgeName,
} from "../hostsfile/edit.ts";
import { formatProblems, type HostsProblem, parseHosts } from "../hostsfile/parse.ts";
import { DEFAULT_KEY, parseEtcdHosts } from "../plugins/etcdhosts/setup.ts";
import { errorMessage } from "../util/errors.ts";
import { defaultConfigPath, EXAMPLE_CONFIG, expandHome, loadYamlSettings } from "./config.ts";

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

settings (flags win over files):
  --config FILE             YAML settings (default ~/.etcdns.yaml, else dnsctl's ~/.dnsctl.yaml)
  -conf COREFILE            use the etcd settings and key of the Corefile's etcdhosts block
  --endpoint URL            etcd endpoint; repeat or comma-separate for several
  --key KEY                 the etcd key of the hosts file (default ${DEFAULT_KEY})
  --user USER --password P  etcd credentials
  --cert FILE --cert-key FILE --ca FILE   etcd client TLS
  --timeout D               etcd call timeout, e.g. 5s (default ${DEFAULT_TIMEOUT_MS / 1000}s)`;

/** Wrong arguments: printed with the usage, exit code 2. */
class HostsUsageError extends Error {}

/** A refused or failed operation: printed, exit code 1. */
class HostsError extends Error {}

/** What every command works with. */
interface Ctx {
  client: Etcd3;
  key: string;
  etcd: EtcdOptions;
  /** --allow-empty: write a value without a usable line. */
  allowEmpty: boolean;
}

const encoder = new TextEncoder();

function out(text: string): void {
  writeAll(Deno.stdout, encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

function err(text: string): void {
  writeAll(Deno.stderr, encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let n = 0;
  while (n < bytes.length) n += w.writeSync(bytes.subarray(n));
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Runs `etcdns hosts ARGS...`; returns the exit code (0 ok, 1 failed or refused, 2 usage). */
export async function runHostsCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (e) {
    err(`etcdns hosts: ${errorMessage(e)}\n\n${USAGE}`);
    return 2;
  }
  const { command, positionals, values } = parsed;
  if (values.help || command === "help") {
    out(USAGE);
    return 0;
  }
  if (command === "config") {
    out(EXAMPLE_CONFIG);
    return 0;
  }
  let client: Etcd3 | null = null;
  try {
    const settings = resolveSettings(values);
    const run = COMMANDS[command];
    checkArity(command, positionals);
    client = await connectEtcd(settings.etcd);
    return await run(
      {
        client,
        key: settings.key,
        etcd: settings.etcd,
        allowEmpty: values["allow-empty"] === true,
      },
      positionals,
      values,
    );
  } catch (e) {
    if (e instanceof HostsUsageError) {
      err(`etcdns hosts: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    err(`etcdns hosts: ${errorMessage(e)}`);
    return 1;
  } finally {
    client?.close();
  }
}

type Values = ReturnType<typeof parseCommandLine>["values"];
type Command = (ctx: Ctx, args: string[], values: Values) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  dump,
  upload,
  edit,
  version,
  history: version,
  diff,
  rollback,
  add,
  del,
  purge,
};

const ARITY: Record<string, [number, number]> = {
  dump: [0, 0],
  upload: [1, 1],
  edit: [0, 0],
  version: [0, 0],
  history: [0, 0],
  diff: [2, 2],
  rollback: [1, 1],
  add: [2, Infinity],
  del: [2, 2],
  purge: [1, 1],
};

const ARG_NAMES: Record<string, string> = {
  upload: "FILE",
  diff: "REV1 REV2",
  rollback: "REV",
  add: "IP NAME...",
  del: "IP NAME",
  purge: "NAME",
};

function checkArity(command: string, positionals: string[]): void {
  const [min, max] = ARITY[command];
  if (positionals.length < min || positionals.length > max) {
    const want = ARG_NAMES[command] ? ` ${ARG_NAMES[command]}` : " (no arguments)";
    throw new HostsUsageError(`'${command}' takes${want}, got ${positionals.length} argument(s)`);
  }
}

/** Parses the command line with node:util parseArgs; CoreDNS-style `-conf` is accepted too. */
function parseCommandLine(args: string[]) {
  const normalised = doubleDashLongFlags(args);
  const { values, positionals } = parseArgs({
    args: normalised,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      conf: { type: "string" },
      endpoint: { type: "string", multiple: true },
      key: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      cert: { type: "string" },
      "cert-key": { type: "string" },
      ca: { type: "string" },
      timeout: { type: "string" },
      out: { type: "string", short: "o" },
      rev: { type: "string", short: "r" },
      help: { type: "boolean", short: "h" },
      "allow-empty": { type: "boolean" },
    },
  });
  const [command = "help", ...rest] = positionals;
  if (command !== "help" && command !== "config" && !(command in COMMANDS)) {
    throw new Error(`unknown command '${command}'`);
  }
  if (command !== "dump" && (values.out !== undefined || values.rev !== undefined)) {
    throw new Error(`-o and -r belong to 'dump', not '${command}'`);
  }
  if (values["allow-empty"] && !WRITERS.includes(command)) {
    throw new Error(`--allow-empty belongs to ${WRITERS.join(", ")}, not '${command}'`);
  }
  return { command, positionals: rest, values };
}

/** The commands that may leave the key without a usable line. */
const WRITERS = ["upload", "edit", "rollback", "del", "purge"];

/** Where the settings come from: defaults, then a file (YAML or Corefile), then flags. */
function resolveSettings(values: Values): { etcd: EtcdOptions; key: string } {
  const etcd: EtcdOptions = { endpoints: [DEFAULT_ENDPOINT], timeoutMs: DEFAULT_TIMEOUT_MS };
  let key = DEFAULT_KEY;
  if (values.conf !== undefined && values.config !== undefined) {
    throw new HostsUsageError("give either --config (YAML) or -conf (Corefile), not both");
  }
  if (values.conf !== undefined) {
    const found = fromCorefile(values.conf);
    Object.assign(etcd, found.etcd);
    key = found.key;
  } else {
    const path = values.config ?? defaultConfigPath();
    if (path !== undefined) {
      const y = loadYamlSettings(expandHome(path));
      if (y.endpoints) etcd.endpoints = y.endpoints;
      if (y.username !== undefined) {
        etcd.username = y.username;
        etcd.password = y.password ?? "";
      }
      if (y.tls) etcd.tls = y.tls;
      if (y.timeoutMs !== undefined) etcd.timeoutMs = y.timeoutMs;
      if (y.hostsKey !== undefined) key = y.hostsKey;
    }
  }
  if (values.endpoint) {
    etcd.endpoints = values.endpoint.flatMap((e) => e.split(",")).filter((e) => e !== "").map(
      (e) => {
        const n = normaliseEndpoint(e);
        if (typeof n !== "string") throw new HostsUsageError(n.error);
        return n;
      },
    );
    if (etcd.endpoints.length === 0) throw new HostsUsageError("--endpoint needs a URL");
  }
  if (values.key !== undefined) {
    if (values.key === "") throw new HostsUsageError("--key must not be empty");
    key = values.key;
  }
  if (values.user !== undefined) {
    etcd.username = values.user;
    etcd.password = values.password ?? "";
  } else if (values.password !== undefined) {
    throw new HostsUsageError("--password needs --user");
  }
  if (values.cert !== undefined || values["cert-key"] !== undefined || values.ca !== undefined) {
    if ((values.cert === undefined) !== (values["cert-key"] === undefined)) {
      throw new HostsUsageError("--cert and --cert-key go together");
    }
    etcd.tls = { cert: values.cert, key: values["cert-key"], ca: values.ca };
  }
  if (values.timeout !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(values.timeout);
    const ms = m ? Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000) : 0;
    if (!(ms > 0)) {
      throw new HostsUsageError(`--timeout takes a duration such as 5s, got '${values.timeout}'`);
    }
    etcd.timeoutMs = ms;
  }
  return { etcd, key };
}

/** The etcd settings and key of the first etcdhosts directive in a Corefile. */
function fromCorefile(path: string): { etcd: EtcdOptions; key: string } {
  const { blocks } = loadCorefile(path);
  for (const block of blocks) {
    for (const d of block.directives) {
      if (d.name !== "etcdhosts") continue;
      const config = parseEtcdHosts(d, [...new Set(block.keys.map((k) => k.zone))]);
      return { etcd: config.etcd, key: config.key };
    }
  }
  throw new HostsError(`${path} has no etcdhosts directive to take the etcd settings from`);
}

/** Runs an etcd call, turning its failure into a message that says what to check. */
async function etcdCall<T>(ctx: Ctx, what: string, fn: () => Promise<T>): Promise<T> {
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
    throw new HostsError(`${what}: ${explainEtcdError(e, ctx.etcd)}`);
  }
}

/** The key's state (at `rev`, when given). */
async function readKey(
  ctx: Ctx,
  rev?: number,
  keysOnly = false,
): Promise<{ kv: IKeyValue | undefined; revision: number }> {
  const res = await etcdCall(
    ctx,
    `reading ${ctx.key}${rev ? ` at revision ${rev}` : ""}`,
    () =>
      ctx.client.kv.range({
        key: Buffer.from(ctx.key),
        revision: rev === undefined ? undefined : String(rev),
        keys_only: keysOnly,
      }),
  );
  return { kv: res.kvs[0], revision: Number(res.header.revision) };
}

function parseRevision(text: string, what = "REV"): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new HostsUsageError(`${what} must be a revision number (1 or more), got '${text}'`);
  }
  return Number(text);
}

function countEntries(text: string): number {
  let n = 0;
  for (const r of parseHosts(text).records) n += r.names.length;
  return n;
}

function refuse(source: string, problems: readonly HostsProblem[], key: string): never {
  throw new HostsError(
    `refused: ${problems.length} bad line${problems.length === 1 ? "" : "s"} in ${source}; ` +
      `nothing was written to ${key}\n${formatProblems(source, problems)}`,
  );
}

/** The placeholder the messages suggest for dropping every record. */
const PLACEHOLDER = "127.0.0.1 placeholder.invalid";

/**
 * Refuses a text without a usable line unless --allow-empty: nodes never serve such a value
 * (they keep their last good data), so writing it is almost always a mistake, e.g. a truncated
 * file or a failed `dump > file`. Returns a note to print after an allowed write, else "".
 */
function checkNotEmpty(ctx: Ctx, text: string, source: string): string {
  if (parseHosts(text).entryLines > 0) return "";
  const what = text.trim() === "" ? "is empty" : "has no entry (only blank lines and comments)";
  const nodes = "etcdns nodes never serve a hosts file without a usable line: they keep " +
    "serving their last good data";
  if (!ctx.allowEmpty) {
    throw new HostsError(
      `refused: ${source} ${what}; nothing was written to ${ctx.key}. ${nodes}, so this is ` +
        `most likely a mistake. To write it anyway, add --allow-empty; to drop every record, ` +
        `write a file with one placeholder line such as '${PLACEHOLDER}'`,
    );
  }
  return `note: ${ctx.key} now has no usable line (--allow-empty); ${nodes} (a node that ` +
    `starts now serves only its inline entries). To drop every record, write one placeholder ` +
    `line such as '${PLACEHOLDER}'`;
}

/**
 * Validates `text` strictly and writes `bytes` if the key's mod revision is still
 * `expectMod` (0: the key must not exist). Returns the new revision.
 */
async function write(
  ctx: Ctx,
  text: string,
  bytes: Uint8Array,
  expectMod: number,
  source: string,
): Promise<number> {
  const { problems } = parseHosts(text);
  if (problems.length > 0) refuse(source, problems, ctx.key);
  const note = checkNotEmpty(ctx, text, source);
  const txn = await etcdCall(
    ctx,
    `writing ${ctx.key}`,
    () =>
      ctx.client.if(ctx.key, "Mod", "==", expectMod)
        .then(ctx.client.put(ctx.key).value(Buffer.from(bytes)))
        .commit(),
  );
  if (!txn.succeeded) {
    const now = await readKey(ctx, undefined, true);
    const nowMod = now.kv ? Number(now.kv.mod_revision) : 0;
    throw new HostsError(
      `${ctx.key} was changed by someone else since it was read (mod revision ${
        expectMod || "none"
      }, now ${nowMod ? nowMod : "deleted"}); nothing was written. ` +
        (expectMod && nowMod ? `See 'etcdns hosts diff ${expectMod} ${nowMod}', then ` : "") +
        `run the command again`,
    );
  }
  if (note) err(note);
  return Number(txn.header.revision);
}

async function dump(ctx: Ctx, _args: string[], values: Values): Promise<number> {
  const rev = values.rev === undefined ? undefined : parseRevision(values.rev, "-r");
  const { kv } = await readKey(ctx, rev);
  if (!kv) {
    throw new HostsError(
      `${ctx.key} does not exist in etcd${rev ? ` at revision ${rev}` : ""}; ` +
        `create it with 'etcdns hosts upload FILE' or 'add'`,
    );
  }
  if (values.out !== undefined) {
    await Deno.writeFile(values.out, kv.value);
    err(`wrote ${ctx.key} (revision ${kv.mod_revision}) to ${values.out}`);
  } else {
    writeAll(Deno.stdout, kv.value);
  }
  return 0;
}

async function upload(ctx: Ctx, [file]: string[]): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = file === "-"
      ? new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer())
      : await Deno.readFile(file);
  } catch (e) {
    throw new HostsError(`cannot read ${file}: ${errorMessage(e)}`);
  }
  const text = decode(bytes);
  const { problems } = parseHosts(text);
  if (problems.length > 0) refuse(file, problems, ctx.key);
  if (!ctx.allowEmpty) checkNotEmpty(ctx, text, file);
  const { kv } = await readKey(ctx);
  if (kv && Buffer.from(kv.value).equals(Buffer.from(bytes))) {
    out(`${ctx.key} already has this content (revision ${kv.mod_revision}); nothing written`);
    return 0;
  }
  const rev = await write(ctx, text, bytes, kv ? Number(kv.mod_revision) : 0, file);
  out(`uploaded ${file} to ${ctx.key}: ${countEntries(text)} entries, revision ${rev}`);
  return 0;
}

/** Our lines at the top of a file re-opened after a validation error. */
const HEADER_MARK = "# etcdns: ";

function stripHeader(text: string): string {
  let t = text;
  while (t.startsWith(HEADER_MARK)) {
    const nl = t.indexOf("\n");
    t = nl < 0 ? "" : t.slice(nl + 1);
  }
  return t;
}

function errorHeader(problems: readonly HostsProblem[]): string {
  const shown = problems.slice(0, 20);
  const size = 2 + shown.length + (problems.length > shown.length ? 1 : 0);
  const lines = [
    `${HEADER_MARK}not saved: fix these lines, or save the file unchanged to give up.`,
    ...shown.map((p) => `${HEADER_MARK}  line ${p.line + size}: ${p.reason}`),
    ...(problems.length > shown.length
      ? [`${HEADER_MARK}  and ${problems.length - shown.length} more`]
      : []),
    `${HEADER_MARK}(lines starting with '${HEADER_MARK.trim()}' are removed when saving)`,
  ];
  return lines.join("\n") + "\n";
}

async function runEditor(editor: string, path: string): Promise<number> {
  // Through the shell, so that an editor with arguments ("code --wait") works as it does
  // for git and kubectl.
  const status = await new Deno.Command("sh", {
    args: ["-c", `${editor} "$1"`, "sh", path],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  return status.code;
}

async function edit(ctx: Ctx): Promise<number> {
  const { kv } = await readKey(ctx);
  const original = kv ? decode(kv.value) : "";
  const expectMod = kv ? Number(kv.mod_revision) : 0;
  const editor = Deno.env.get("VISUAL") || Deno.env.get("EDITOR") || "vi";
  const dir = await Deno.makeTempDir({ prefix: "etcdns-hosts-edit-" });
  const path = `${dir}/hosts`;
  let keep = false;
  try {
    await Deno.writeTextFile(path, original);
    let rejected: string | null = null;
    for (let round = 0; round < 100; round++) {
      const code = await runEditor(editor, path);
      if (code !== 0) {
        throw new HostsError(
          `the editor '${editor}' exited with code ${code}; nothing was written`,
        );
      }
      const edited = stripHeader(decode(await Deno.readFile(path)));
      if (edited === original) {
        out(`no changes; nothing written to ${ctx.key}`);
        return 0;
      }
      const { problems } = parseHosts(edited);
      if (problems.length === 0) {
        try {
          const rev = await write(ctx, edited, encoder.encode(edited), expectMod, "edited file");
          out(`saved ${ctx.key}: ${countEntries(edited)} entries, revision ${rev}`);
          return 0;
        } catch (e) {
          keep = true;
          throw new HostsError(`${errorMessage(e)}\nyour edited file is kept at ${path}`);
        }
      }
      if (edited === rejected) {
        throw new HostsError(
          `the file still has ${problems.length} bad line(s) and was saved unchanged; nothing was written`,
        );
      }
      err(`${formatProblems("edited file", problems)}\nnot saved; re-opening the editor`);
      rejected = edited;
      await Deno.writeTextFile(path, errorHeader(problems) + edited);
    }
    throw new HostsError("gave up after 100 rounds of editing; nothing was written");
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function version(ctx: Ctx): Promise<number> {
  let { kv } = await readKey(ctx, undefined, true);
  if (!kv) {
    throw new HostsError(
      `${ctx.key} does not exist in etcd now; 'etcdns hosts dump -r REV' shows an older revision`,
    );
  }
  const rows: [number, number][] = [];
  let compacted = false;
  while (kv) {
    const ver: number = Number(kv.version);
    const mod: number = Number(kv.mod_revision);
    rows.push([ver, mod]);
    if (ver <= 1) break;
    try {
      kv = (await readKey(ctx, mod - 1, true)).kv;
    } catch (e) {
      // etcd keeps history only back to its last compaction; older versions are gone.
      if (e instanceof HostsError && /compacted/.test(e.message)) {
        compacted = true;
        break;
      }
      throw e;
    }
  }
  const lines = ["VERSION  MOD REVISION"];
  rows.forEach(([v, m], i) =>
    lines.push(`${String(v).padStart(7)}  ${String(m).padStart(12)}${i === 0 ? "  (current)" : ""}`)
  );
  if (compacted) {
    lines.push(
      `older versions were compacted away by etcd (before mod revision ${
        rows[rows.length - 1][1]
      })`,
    );
  }
  out(lines.join("\n"));
  return 0;
}

async function valueAt(ctx: Ctx, rev: number): Promise<string | null> {
  const { kv } = await readKey(ctx, rev);
  return kv ? decode(kv.value) : null;
}

async function diff(ctx: Ctx, [a, b]: string[]): Promise<number> {
  const r1 = parseRevision(a, "REV1");
  const r2 = parseRevision(b, "REV2");
  const [t1, t2] = [await valueAt(ctx, r1), await valueAt(ctx, r2)];
  const label = (r: number, t: string | null) => `${ctx.key}@${r}${t === null ? " (absent)" : ""}`;
  const text = unifiedDiff(t1 ?? "", t2 ?? "", label(r1, t1), label(r2, t2));
  if (text === "") out(`no differences between revisions ${r1} and ${r2}`);
  else writeAll(Deno.stdout, encoder.encode(text));
  return 0;
}

async function rollback(ctx: Ctx, [revText]: string[]): Promise<number> {
  const rev = parseRevision(revText);
  const { kv: old } = await readKey(ctx, rev);
  if (!old) throw new HostsError(`${ctx.key} did not exist at revision ${rev}; nothing written`);
  const { kv } = await readKey(ctx);
  if (kv && Buffer.from(kv.value).equals(Buffer.from(old.value))) {
    out(`${ctx.key} already has the content of revision ${rev}; nothing written`);
    return 0;
  }
  const text = decode(old.value);
  const newRev = await write(
    ctx,
    text,
    old.value,
    kv ? Number(kv.mod_revision) : 0,
    `${ctx.key}@${rev}`,
  );
  out(
    `rolled ${ctx.key} back to the content of revision ${rev}: ${
      countEntries(text)
    } entries, revision ${newRev}`,
  );
  return 0;
}

/** Reads the current text, applies `change`, and writes the result if it changed anything. */
async function modify(
  ctx: Ctx,
  change: (text: string) => EditResult,
  done: (r: EditResult, rev: number) => string,
  unchanged: () => number,
): Promise<number> {
  const { kv } = await readKey(ctx);
  const text = kv ? decode(kv.value) : "";
  const result = change(text);
  if (result.changed === 0) return unchanged();
  const rev = await write(
    ctx,
    result.text,
    encoder.encode(result.text),
    kv ? Number(kv.mod_revision) : 0,
    `${ctx.key} after this change`,
  );
  out(done(result, rev));
  return 0;
}

function checkArgs(ip: string, names: string[]): void {
  try {
    checkEntryArgs(ip, names);
  } catch (e) {
    throw new HostsUsageError(errorMessage(e));
  }
}

function add(ctx: Ctx, [ip, ...names]: string[]): Promise<number> {
  checkArgs(ip, names);
  return modify(
    ctx,
    (t) => addEntry(t, ip, names),
    (r, rev) => `added ${r.changed} name(s) for ${ip} to ${ctx.key}: revision ${rev}`,
    () => {
      out(`${ip} already has ${names.join(" ")} in ${ctx.key}; nothing written`);
      return 0;
    },
  );
}

function del(ctx: Ctx, [ip, name]: string[]): Promise<number> {
  checkArgs(ip, [name]);
  return modify(
    ctx,
    (t) => deleteEntry(t, ip, name),
    (_r, rev) => `removed ${name} from ${ip} in ${ctx.key}: revision ${rev}`,
    () => {
      throw new HostsError(`${ctx.key} has no entry '${ip} ${name}'; nothing written`);
    },
  );
}

function purge(ctx: Ctx, [name]: string[]): Promise<number> {
  checkArgs("127.0.0.1", [name]);
  return modify(
    ctx,
    (t) => purgeName(t, name),
    (r, rev) =>
      `removed ${name} (${r.changed} entr${
        r.changed === 1 ? "y" : "ies"
      }) from ${ctx.key}: revision ${rev}`,
    () => {
      throw new HostsError(`${name} is not in ${ctx.key}; nothing written`);
    },
  );
}
