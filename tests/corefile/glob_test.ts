import assert from "node:assert/strict";
import { join } from "node:path";
import { expandGlob, GlobError, hasGlobMeta, matchSegment } from "../../src/corefile/glob.ts";
import { withTempDir } from "./_helpers.ts";

Deno.test("glob: segment matching", () => {
  const cases: [string, string, boolean][] = [
    ["*", "anything", true],
    ["*", ".hidden", true],
    ["*", "", true],
    ["*.conf", "a.conf", true],
    ["*.conf", "a.conf.bak", false],
    ["a*", "abc", true],
    ["a*", "ba", false],
    ["?", "x", true],
    ["?", "", false],
    ["??", "x", false],
    ["f?.txt", "f1.txt", true],
    ["[abc]", "b", true],
    ["[abc]", "d", false],
    ["[a-c]x", "cx", true],
    ["[a-c]x", "dx", false],
    ["[!a]", "b", true],
    ["[!a]", "a", false],
    ["[^a-c]", "z", true],
    ["[a-]", "-", true],
    ["\\*", "*", true],
    ["\\*", "a", false],
    ["[\\]]", "]", true],
    ["*a*b", "xaxxb", true],
    ["*a*b", "xaxxbc", false],
    ["a*b*c*d", "aXbYcZd", true],
    ["*é*", "café", true],
    ["?", "é", true],
  ];
  for (const [pattern, name, want] of cases) {
    assert.equal(matchSegment(pattern, name), want, `${pattern} ~ ${name}`);
  }
});

Deno.test("glob: a long name against many stars stays fast", () => {
  const started = performance.now();
  assert.equal(matchSegment("*a*a*a*a*a*a*a*b", "a".repeat(2000)), false);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("glob: malformed patterns throw GlobError", () => {
  for (const bad of ["[abc", "[]", "x\\", "[!"]) {
    assert.throws(() => matchSegment(bad, "x"), GlobError, bad);
  }
});

Deno.test("glob: hasGlobMeta", () => {
  assert.ok(hasGlobMeta("conf.d/*.conf"));
  assert.ok(hasGlobMeta("a?"));
  assert.ok(hasGlobMeta("[ab]"));
  assert.ok(!hasGlobMeta("conf.d/zone.conf"));
});

Deno.test("glob: expansion over directories, sorted, existing paths only", () => {
  const files = {
    "conf.d/b.conf": "",
    "conf.d/a.conf": "",
    "conf.d/c.txt": "",
    "conf.d/sub1/z.conf": "",
    "conf.d/sub2/z.conf": "",
    "conf.d/sub3/y.conf": "",
  };
  withTempDir(files, (dir) => {
    const at = (...rel: string[]) => rel.map((r) => join(dir, r));
    assert.deepEqual(expandGlob(join(dir, "conf.d/*.conf")), at("conf.d/a.conf", "conf.d/b.conf"));
    assert.deepEqual(
      expandGlob(join(dir, "conf.d/sub*/z.conf")),
      at("conf.d/sub1/z.conf", "conf.d/sub2/z.conf"),
    );
    assert.deepEqual(
      expandGlob(join(dir, "conf.d/*")),
      at(
        "conf.d/a.conf",
        "conf.d/b.conf",
        "conf.d/c.txt",
        "conf.d/sub1",
        "conf.d/sub2",
        "conf.d/sub3",
      ),
    );
    assert.deepEqual(expandGlob(join(dir, "nope/*")), []);
    assert.deepEqual(expandGlob(join(dir, "conf.d/a.conf/*")), []);
    assert.throws(() => expandGlob(join(dir, "nope/[x")), GlobError);
  });
});
