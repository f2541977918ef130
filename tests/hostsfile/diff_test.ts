import assert from "node:assert/strict";
import { unifiedDiff } from "../../src/hostsfile/diff.ts";

/** Applies a unified diff's +/-/space lines to check it turns `a` into `b`. */
function apply(a: string, diff: string): string {
  const out: string[] = [];
  const lines = a === "" ? [] : a.replace(/\n$/, "").split("\n");
  let pos = 0;
  for (const hunk of diff.split(/^@@ /m).slice(1)) {
    const [head, ...body] = hunk.replace(/\n$/, "").split("\n");
    const start = Number(/^-(\d+)/.exec(head)![1]);
    const from = start === 0 ? 0 : start - 1;
    while (pos < from) out.push(lines[pos++]);
    for (const l of body) {
      if (l[0] === " ") {
        assert.equal(lines[pos], l.slice(1));
        out.push(lines[pos++]);
      } else if (l[0] === "-") {
        assert.equal(lines[pos], l.slice(1));
        pos++;
      } else {
        out.push(l.slice(1));
      }
    }
  }
  while (pos < lines.length) out.push(lines[pos++]);
  return out.length ? out.join("\n") + "\n" : "";
}

Deno.test("unifiedDiff: equal texts give nothing", () => {
  assert.equal(unifiedDiff("a\n", "a\n", "x", "y"), "");
});

Deno.test("unifiedDiff: a small change, as diff -u prints it", () => {
  const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  assert.equal(
    unifiedDiff(a, b, "/etcdhosts@5", "/etcdhosts@9"),
    "--- /etcdhosts@5\n+++ /etcdhosts@9\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
  );
});

Deno.test("unifiedDiff: from and to empty", () => {
  assert.equal(unifiedDiff("", "a\nb\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  assert.equal(unifiedDiff("a\n", "", "x", "y"), "--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n");
});

Deno.test("unifiedDiff: random edits round-trip", () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let t = 0; t < 200; t++) {
    const a = Array.from({ length: rnd(30) }, () => `l${rnd(8)}`);
    const b = a.filter(() => rnd(4) !== 0);
    for (let i = 0; i < rnd(6); i++) b.splice(rnd(b.length + 1), 0, `n${rnd(8)}`);
    const ta = a.length ? a.join("\n") + "\n" : "";
    const tb = b.length ? b.join("\n") + "\n" : "";
    assert.equal(apply(ta, unifiedDiff(ta, tb, "a", "b", rnd(4))), tb, `case ${t}`);
  }
});
