/**
 * The layering of src/, checked on the real import graph: every relative import in src/ runs
 * downward (docs/architecture.md draws the same picture). A folder may import itself and any
 * folder of a lower rank; `server` and `plugins` share a rank and may not import each other.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Each top folder (or file) of src/ and its rank: lower ranks never import higher ones. */
const RANK: Record<string, number> = {
  "util": 0,
  "version.ts": 0,
  "dns": 1,
  "net": 1,
  "corefile": 1,
  "metrics": 1,
  "etcd": 2,
  "hostsfile": 2,
  "plugin": 3,
  "server": 4,
  "plugins": 4,
  "cli": 5,
};

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sources(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The top folder of a path inside src/. */
function topOf(path: string): string {
  return relative(SRC, path).split("/")[0];
}

/** Every relative import of `file`, resolved to a path. */
function importsOf(file: string): string[] {
  const text = Deno.readTextFileSync(file);
  const specs = [...text.matchAll(/(?:import|export)[^"';]*?from\s*"(\.{1,2}\/[^"]+)"/g)]
    .map((m) => m[1]);
  return specs.map((s) => normalize(join(dirname(file), s)));
}

Deno.test("layers: every import in src/ runs downward, with no folder loop", () => {
  const files = sources(SRC);
  const wrong: string[] = [];
  for (const file of files) {
    const from = topOf(file);
    assert.ok(from in RANK, `src/${from} has no rank in this test: give it one`);
    for (const target of importsOf(file)) {
      const to = topOf(target);
      if (to === from) continue;
      assert.ok(to in RANK, `${relative(SRC, file)} imports outside src/: ${target}`);
      if (RANK[to] >= RANK[from]) {
        wrong.push(`src/${relative(SRC, file)} -> src/${relative(SRC, target)}`);
      }
    }
  }
  assert.deepEqual(wrong, [], `imports that run upward or sideways:\n${wrong.join("\n")}`);
});

Deno.test("layers: plugins import each other only through the plugin kit, except hosts' shared answering", () => {
  const wrong: string[] = [];
  for (const file of sources(join(SRC, "plugins"))) {
    const own = relative(join(SRC, "plugins"), file).split("/")[0];
    for (const target of importsOf(file)) {
      const rel = relative(join(SRC, "plugins"), target);
      if (rel.startsWith("..")) continue;
      const other = rel.split("/")[0];
      if (other === own || other === "registry.ts" && own === "registry.ts") continue;
      // etcdhosts is hosts over etcd: it shares the hosts plugin's block parser and answering.
      if (own === "etcdhosts" && other === "hosts") continue;
      if (own === "registry.ts") continue;
      wrong.push(`src/plugins/${relative(join(SRC, "plugins"), file)} -> src/plugins/${rel}`);
    }
  }
  assert.deepEqual(wrong, [], wrong.join("\n"));
});

Deno.test("layers: no file in src/ is over 400 lines, and no `any` at all", () => {
  const long: string[] = [];
  const anys: string[] = [];
  for (const file of sources(SRC)) {
    const text = Deno.readTextFileSync(file);
    const lines = text.split("\n").length - 1;
    if (lines > 400) long.push(`src/${relative(SRC, file)}: ${lines} lines`);
    text.split("\n").forEach((line, i) => {
      if (/:\s*any\b|\bas any\b|<any>|no-explicit-any/.test(line)) {
        anys.push(`src/${relative(SRC, file)}:${i + 1}`);
      }
    });
  }
  assert.deepEqual(long, [], long.join("\n"));
  assert.deepEqual(anys, [], anys.join("\n"));
});
