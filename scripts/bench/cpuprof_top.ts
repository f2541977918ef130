/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per function, highest
 * first, as a share of the busy samples (idle ones are counted apart).
 *
 *   deno run -A scripts/bench/cpuprof_top.ts PROFILE.cpuprofile [TOP]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const [path, top = "30"] = Deno.args;
const profile: Profile = JSON.parse(Deno.readTextFileSync(path));
const nameOf = new Map<number, string>();
for (const n of profile.nodes) {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^.*\/(src|scripts|tests|node_modules|ext)\//, "$1/");
  nameOf.set(n.id, `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`);
}
const self = new Map<string, number>();
for (const id of profile.samples) {
  const name = nameOf.get(id) ?? "?";
  self.set(name, (self.get(name) ?? 0) + 1);
}
const idle = self.get("(idle) :0") ?? 0;
self.delete("(idle) :0");
const total = profile.samples.length - idle;
console.log(`${total} busy samples, ${idle} idle`);
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top));
for (const [name, count] of rows) {
  console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
}
