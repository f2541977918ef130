/**
 * `etcdns hosts edit`: the editor loop. The file opens in $VISUAL, else $EDITOR, else vi; a
 * saved file with bad lines re-opens with the problems listed at the top (and is given up when
 * saved unchanged); a good one is written only if nobody changed the key meanwhile, else it is
 * kept on disk and the conflict reported.
 */
import { formatProblems, type HostsProblem, parseHosts } from "../hostsfile/parse.ts";
import { errorMessage } from "../util/errors.ts";
import { ConflictError, countEntries, HostsError, type HostsStore } from "./hosts_store.ts";
import { decode, encode, err, out } from "./io.ts";

/** Our lines at the top of a file re-opened after a validation error. */
const HEADER_MARK = "# etcdns: ";

/** The most rounds of editing before giving up. */
const MAX_ROUNDS = 100;

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

/** Runs the editor loop on the store's key; returns the exit code. */
export async function edit(store: HostsStore): Promise<number> {
  const { kv } = await store.read();
  const original = kv ? decode(kv.value) : "";
  const expectMod = kv ? Number(kv.mod_revision) : 0;
  const editor = Deno.env.get("VISUAL") || Deno.env.get("EDITOR") || "vi";
  const dir = await Deno.makeTempDir({ prefix: "etcdns-hosts-edit-" });
  const path = `${dir}/hosts`;
  let keep = false;
  try {
    await Deno.writeTextFile(path, original);
    let rejected: string | null = null;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const code = await runEditor(editor, path);
      if (code !== 0) {
        throw new HostsError(
          `the editor '${editor}' exited with code ${code}; nothing was written`,
        );
      }
      const edited = stripHeader(decode(await Deno.readFile(path)));
      if (edited === original) {
        out(`no changes; nothing written to ${store.key}`);
        return 0;
      }
      const { problems } = parseHosts(edited);
      if (problems.length === 0) {
        try {
          const rev = await store.write(edited, encode(edited), expectMod, "edited file");
          out(`saved ${store.key}: ${countEntries(edited)} entries, revision ${rev}`);
          return 0;
        } catch (e) {
          keep = true;
          const Kind = e instanceof ConflictError ? ConflictError : HostsError;
          throw new Kind(`${errorMessage(e)}\nyour edited file is kept at ${path}`);
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
    throw new HostsError(`gave up after ${MAX_ROUNDS} rounds of editing; nothing was written`);
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
