/**
 * The commands of `etcdns hosts` that read and change the hosts file: dump, upload, version
 * (history), diff, rollback, add, del, purge. `edit` is in hosts_editor.ts; every write goes
 * through HostsStore's validated compare-and-swap.
 */
import { Buffer } from "node:buffer";
import { unifiedDiff } from "../hostsfile/diff.ts";
import {
  addEntry,
  checkEntryArgs,
  deleteEntry,
  type EditResult,
  purgeName,
} from "../hostsfile/edit.ts";
import { checkName } from "../hostsfile/parse.ts";
import { Backoff } from "../util/backoff.ts";
import { errorMessage } from "../util/errors.ts";
import { UsageError } from "./flags.ts";
import { ConflictError, countEntries, HostsError, type HostsStore } from "./hosts_store.ts";
import { decode, encode, err, out, writeAll } from "./io.ts";

/** The options a command may take beyond its arguments. */
export interface CommandOptions {
  /** dump -o FILE */
  out?: string;
  /** dump -r REV */
  rev?: string;
}

function parseRevision(text: string, what = "REV"): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${what} must be a revision number (1 or more), got '${text}'`);
  }
  return Number(text);
}

export async function dump(s: HostsStore, _args: string[], o: CommandOptions): Promise<number> {
  const rev = o.rev === undefined ? undefined : parseRevision(o.rev, "-r");
  const { kv } = await s.read(rev);
  if (!kv) {
    throw new HostsError(
      `${s.key} does not exist in etcd${rev ? ` at revision ${rev}` : ""}; ` +
        `create it with 'etcdns hosts upload FILE' or 'add'`,
    );
  }
  if (o.out !== undefined) {
    await Deno.writeFile(o.out, kv.value);
    err(`wrote ${s.key} (revision ${kv.mod_revision}) to ${o.out}`);
  } else {
    writeAll(Deno.stdout, kv.value);
  }
  return 0;
}

export async function upload(s: HostsStore, [file]: string[]): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = file === "-"
      ? new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer())
      : await Deno.readFile(file);
  } catch (e) {
    throw new HostsError(`cannot read ${file}: ${errorMessage(e)}`);
  }
  const text = decode(bytes);
  // Refuse a bad file before reading etcd, so the message does not depend on etcd.
  s.validate(text, file);
  s.checkNotEmpty(text, file);
  const { kv } = await s.read();
  if (kv && Buffer.from(kv.value).equals(Buffer.from(bytes))) {
    out(`${s.key} already has this content (revision ${kv.mod_revision}); nothing written`);
    return 0;
  }
  const rev = await s.write(text, bytes, kv ? Number(kv.mod_revision) : 0, file);
  out(`uploaded ${file} to ${s.key}: ${countEntries(text)} entries, revision ${rev}`);
  return 0;
}

export async function version(s: HostsStore): Promise<number> {
  let { kv } = await s.read(undefined, true);
  if (!kv) {
    throw new HostsError(
      `${s.key} does not exist in etcd now; 'etcdns hosts dump -r REV' shows an older revision`,
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
      kv = (await s.read(mod - 1, true)).kv;
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

async function valueAt(s: HostsStore, rev: number): Promise<string | null> {
  const { kv } = await s.read(rev);
  return kv ? decode(kv.value) : null;
}

export async function diff(s: HostsStore, [a, b]: string[]): Promise<number> {
  const r1 = parseRevision(a, "REV1");
  const r2 = parseRevision(b, "REV2");
  const [t1, t2] = [await valueAt(s, r1), await valueAt(s, r2)];
  const label = (r: number, t: string | null) => `${s.key}@${r}${t === null ? " (absent)" : ""}`;
  const text = unifiedDiff(t1 ?? "", t2 ?? "", label(r1, t1), label(r2, t2));
  if (text === "") out(`no differences between revisions ${r1} and ${r2}`);
  else writeAll(Deno.stdout, encode(text));
  return 0;
}

export async function rollback(s: HostsStore, [revText]: string[]): Promise<number> {
  const rev = parseRevision(revText);
  const { kv: old } = await s.read(rev);
  if (!old) throw new HostsError(`${s.key} did not exist at revision ${rev}; nothing written`);
  const { kv } = await s.read();
  if (kv && Buffer.from(kv.value).equals(Buffer.from(old.value))) {
    out(`${s.key} already has the content of revision ${rev}; nothing written`);
    return 0;
  }
  const text = decode(old.value);
  const newRev = await s.write(
    text,
    old.value,
    kv ? Number(kv.mod_revision) : 0,
    `${s.key}@${rev}`,
  );
  out(
    `rolled ${s.key} back to the content of revision ${rev}: ${
      countEntries(text)
    } entries, revision ${newRev}`,
  );
  return 0;
}

/**
 * How often `add`, `del` and `purge` try their compare-and-swap. They commute with any other
 * edit, so a lost race is re-read and re-applied rather than refused: ten nodes adding
 * themselves at once from cloud-init all succeed.
 */
export const EDIT_TRIES = 20;

/**
 * Reads the current text, applies `change`, and writes the result if it changed anything. When
 * someone else wrote the key in between, reads it again and re-applies `change` to the new text
 * (up to EDIT_TRIES times, with a short jittered back-off so racing writers spread out).
 */
async function modify(
  s: HostsStore,
  change: (text: string) => EditResult,
  done: (r: EditResult, rev: number) => string,
  unchanged: () => number,
): Promise<number> {
  const backoff = new Backoff({ minMs: 10, maxMs: 250, jitter: 0.5 });
  for (let attempt = 1;; attempt++) {
    const { kv } = await s.read();
    const text = kv ? decode(kv.value) : "";
    const result = change(text);
    if (result.changed === 0) return unchanged();
    let rev: number;
    try {
      rev = await s.write(
        result.text,
        encode(result.text),
        kv ? Number(kv.mod_revision) : 0,
        `${s.key} after this change`,
      );
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= EDIT_TRIES) throw e;
      await backoff.wait();
      continue;
    }
    out(done(result, rev));
    return 0;
  }
}

/** Checks the IP and names of `add`/`del`; a bad one is a usage error. */
function checkArgs(ip: string, names: string[]): void {
  try {
    checkEntryArgs(ip, names);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}

export function add(s: HostsStore, [ip, ...names]: string[]): Promise<number> {
  checkArgs(ip, names);
  return modify(
    s,
    (t) => addEntry(t, ip, names),
    (r, rev) => `added ${r.changed} name(s) for ${ip} to ${s.key}: revision ${rev}`,
    () => {
      out(`${ip} already has ${names.join(" ")} in ${s.key}; nothing written`);
      return 0;
    },
  );
}

export function del(s: HostsStore, [ip, name]: string[]): Promise<number> {
  checkArgs(ip, [name]);
  return modify(
    s,
    (t) => deleteEntry(t, ip, name),
    (_r, rev) => `removed ${name} from ${ip} in ${s.key}: revision ${rev}`,
    () => {
      throw new HostsError(`${s.key} has no entry '${ip} ${name}'; nothing written`);
    },
  );
}

export function purge(s: HostsStore, [name]: string[]): Promise<number> {
  const why = checkName(name);
  if (why !== null) throw new UsageError(`'${name}' is not a valid host name: ${why}`);
  return modify(
    s,
    (t) => purgeName(t, name),
    (r, rev) =>
      `removed ${name} (${r.changed} entr${
        r.changed === 1 ? "y" : "ies"
      }) from ${s.key}: revision ${rev}`,
    () => {
      throw new HostsError(`${name} is not in ${s.key}; nothing written`);
    },
  );
}
