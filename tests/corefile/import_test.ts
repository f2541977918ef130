import assert from "node:assert/strict";
import { join } from "node:path";
import { CorefileError } from "../../src/corefile/types.ts";
import { CorefileReadError, loadCorefile, parseCorefile } from "../../src/corefile/mod.ts";
import { assertCorefileError, keysOf, tokenCounts, withTempDir } from "./_helpers.ts";

const noEnv = () => undefined;

function parseIn(dir: string, text: string) {
  return parseCorefile(text, { file: join(dir, "Corefile"), env: noEnv });
}

Deno.test("import: a file at the top level, and a glob of files in sorted order", () => {
  const files = {
    "import_glob0.txt": "glob0.host0 {\n  dir2 arg1\n}\nglob0.host1 {\n}\n",
    "import_glob1.txt": "glob1.host0 {\n  dir1\n  dir2 arg1\n}\n",
    "import_glob2.txt": "glob2.host0 {\n  dir2 arg1\n}\n",
    "single.txt": "single.org {\n  log\n}\n",
  };
  withTempDir(files, (dir) => {
    const { blocks, warnings } = parseIn(dir, "import import_glob*.txt\nimport single.txt\n");
    assert.deepEqual(blocks.map(keysOf), [
      ["dns://glob0.host0.:53"],
      ["dns://glob0.host1.:53"],
      ["dns://glob1.host0.:53"],
      ["dns://glob2.host0.:53"],
      ["dns://single.org.:53"],
    ]);
    assert.deepEqual(warnings, []);
    assert.equal(blocks[2].file, join(dir, "import_glob1.txt"));
    assert.equal(blocks[2].directives[1].line, 3);
  });
});

Deno.test("import: a glob with no match is a warning; a missing file is an error", () => {
  withTempDir({}, (dir) => {
    const { blocks, warnings } = parseIn(dir, "\nimport notfound/*\n");
    assert.deepEqual(blocks, []);
    assert.deepEqual(warnings, [
      `${join(dir, "Corefile")}:2 - import 'notfound/*': no files match`,
    ]);
    assertCorefileError(
      () => parseIn(dir, "import notfound/file.conf"),
      `${join(dir, "Corefile")}:1`,
      `file ${join(dir, "notfound/file.conf")} does not exist`,
    );
  });
});

Deno.test("import: paths are relative to the importing file", () => {
  const files = {
    "conf.d/a.conf": "a.org {\n  import ../snips/common\n}\n",
    "conf.d/sub/b.conf": "b.org {\n  whoami\n}\n",
    "snips/common": "log\nerrors\n",
    "other/Corefile": "import ../conf.d/*.conf\nimport ../conf.d/*/b.conf\n",
  };
  withTempDir(files, (dir) => {
    const { blocks } = parseCorefile(Deno.readTextFileSync(join(dir, "other/Corefile")), {
      file: join(dir, "other/Corefile"),
      env: noEnv,
    });
    assert.deepEqual(blocks.map(keysOf), [["dns://a.org.:53"], ["dns://b.org.:53"]]);
    assert.deepEqual(blocks[0].directives.map((d) => [d.name, d.file]), [
      ["log", join(dir, "snips/common")],
      ["errors", join(dir, "snips/common")],
    ]);
  });
});

Deno.test("import: recursive imports by relative and absolute paths", () => {
  withTempDir({ "sub/file2": "dir2 1" }, (dir) => {
    const check = (file1: string) => {
      Deno.writeTextFileSync(join(dir, "sub/file1"), file1);
      for (const root of [`import ${join(dir, "sub/file1")}`, "import sub/file1"]) {
        const { blocks } = parseIn(dir, root);
        assert.deepEqual(blocks.map(keysOf), [["dns://localhost.:53"]]);
        assert.deepEqual(tokenCounts(blocks[0]), { dir1: 1, dir2: 2 });
      }
    };
    check("localhost\n  dir1\n  import file2");
    check(`localhost\n  dir1\n  import ${join(dir, "sub/file2")}`);
  });
});

Deno.test("import: inside a directive's block", () => {
  withTempDir({ directive_import_test: "prop1 1\nprop2 2" }, (dir) => {
    const text = "localhost\ndir1\nproxy {\n  import directive_import_test\n  transparent\n}";
    const { blocks } = parseIn(dir, text);
    assert.deepEqual(tokenCounts(blocks[0]), { dir1: 1, proxy: 8 });
    assert.deepEqual(blocks[0].directives[1].block!.map((d) => [d.name, d.args]), [
      ["prop1", ["1"]],
      ["prop2", ["2"]],
      ["transparent", []],
    ]);
    assertCorefileError(
      () => parseIn(dir, "localhost\ndir1\nproxy {\n  import nonexistent_file\n  transparent\n}"),
      `${join(dir, "Corefile")}:4`,
      "no snippet 'nonexistent_file' is defined above this line",
    );
  });
});

Deno.test("import: an imported file's last line does not run into the importing line", () => {
  withTempDir({ x: "whoami a" }, (dir) => {
    const { blocks } = parseIn(dir, ".:53 {\n  import x\n  log b\n}\n.:54 { import x }");
    assert.deepEqual(blocks[0].directives.map((d) => [d.name, d.args]), [["whoami", ["a"]], [
      "log",
      ["b"],
    ]]);
    assert.deepEqual(blocks[1].directives.map((d) => d.name), ["whoami"]);
  });
});

Deno.test("import: keys continued by a trailing comma may come from a file", () => {
  withTempDir({ "more.keys": "b.org, c.org" }, (dir) => {
    const { blocks } = parseIn(dir, "a.org,\nimport more.keys\n{\n  log\n}");
    assert.deepEqual(keysOf(blocks[0]), ["dns://a.org.:53", "dns://b.org.:53", "dns://c.org.:53"]);
  });
});

Deno.test("import: snippets", () => {
  const text = [
    "(common) {",
    "  gzip foo",
    "  errors stderr",
    "}",
    "(opts) { max_fails 3 }",
    "example.com {",
    "  import common",
    "  forward . 1.1.1.1 {",
    "    import opts",
    "  }",
    "}",
  ].join("\n");
  const { blocks } = parseCorefile(text, { env: noEnv });
  assert.equal(blocks.length, 1);
  assert.deepEqual(keysOf(blocks[0]), ["dns://example.com.:53"]);
  assert.deepEqual(blocks[0].directives.map((d) => [d.name, d.args, d.line]), [
    ["gzip", ["foo"], 2],
    ["errors", ["stderr"], 3],
    ["forward", [".", "1.1.1.1"], 8],
  ]);
  assert.deepEqual(blocks[0].directives[2].block!.map((d) => [d.name, d.args]), [[
    "max_fails",
    ["3"],
  ]]);
  // The known-directive check applies to what a snippet pastes.
  assertCorefileError(
    () => parseCorefile(text, { env: noEnv, directives: new Set(["errors", "forward"]) }),
    "Corefile:2",
    "Unknown directive 'gzip'",
  );
});

Deno.test("import: a snippet defined in one file is used by an imported file", () => {
  withTempDir({ "site.conf": "example.com {\n  import common\n}\n" }, (dir) => {
    const { blocks } = parseIn(dir, "(common) {\n  gzip foo\n}\nimport site.conf\n");
    assert.equal(blocks.length, 1);
    assert.deepEqual(tokenCounts(blocks[0]), { gzip: 2 });
  });
});

Deno.test("import: a snippet must be defined before its use", () => {
  assertCorefileError(
    () => parseCorefile(".:53 {\n  import late\n}\n(late) {\n  log\n}", { env: noEnv }),
    "Corefile:2",
    "no snippet 'late' is defined above this line",
  );
});

Deno.test("import: snippet cycles are errors", () => {
  const cases: [string, string, string][] = [
    ["(loop) {\n  import loop\n}\nimport loop\n", "Corefile:2", "snippet 'loop' -> snippet 'loop'"],
    [
      "(a) {\n  import b\n}\n(b) {\n  import a\n}\n.:53 {\n  import a\n}",
      "Corefile:5",
      "import cycle: snippet 'a' -> snippet 'b' -> snippet 'a'",
    ],
    // CoreDNS's "self-import via recursion": an error either way.
    ["(loop) {\n  { }\n  import loop\n}\nimport loop\n", "Corefile:2", "unexpected '{'"],
  ];
  for (const [text, at, message] of cases) {
    assertCorefileError(() => parseCorefile(text, { env: noEnv }), at, message);
  }
});

Deno.test("import: an explosion of snippet imports is bounded", () => {
  const lines = ["(s0) {\n  log\n}"];
  for (let i = 1; i <= 15; i++) lines.push(`(s${i}) {\n  import s${i - 1}\n  import s${i - 1}\n}`);
  lines.push(".:53 {\n  import s15\n}");
  assertCorefileError(
    () => parseCorefile(lines.join("\n"), { env: noEnv }),
    "Corefile:14",
    "more than 10000 imports expanded",
  );
});

Deno.test("import: file cycles are errors naming the chain", () => {
  withTempDir({}, (dir) => {
    const a = join(dir, "a.conf");
    const b = join(dir, "b.conf");
    Deno.writeTextFileSync(a, `import ${b}`);
    Deno.writeTextFileSync(b, "\n\nimport a.conf");
    assertCorefileError(
      () => parseIn(dir, "import a.conf"),
      `${b}:3`,
      `import cycle: ${a} -> ${b} -> ${a}`,
    );
    // The Corefile importing itself.
    Deno.writeTextFileSync(join(dir, "Corefile"), ".:53 {\n}\nimport Corefile\n");
    assertCorefileError(
      () => loadCorefile(join(dir, "Corefile")),
      `${join(dir, "Corefile")}:3`,
      "import cycle",
    );
    // A glob that matches the file holding it.
    Deno.mkdirSync(join(dir, "conf.d"));
    Deno.writeTextFileSync(join(dir, "conf.d/x.conf"), "import *.conf");
    assertCorefileError(
      () => parseIn(dir, "import conf.d/*.conf"),
      join(dir, "conf.d/x.conf:1"),
      "import cycle",
    );
  });
});

Deno.test("import: files of one glob importing each other are no cycle", () => {
  const files = { "parts/a.part": "log\nimport b.part", "parts/b.part": "whoami" };
  withTempDir(files, (dir) => {
    const { blocks } = parseIn(dir, ".:53 {\n  import parts/*.part\n}");
    assert.deepEqual(blocks[0].directives.map((d) => d.name), ["log", "whoami", "whoami"]);
  });
});

Deno.test("import: one glob may import many files", () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 100; i++) files[`many/f${i}`] = i % 2 ? "" : `z${i}.org {\n}\n`;
  withTempDir(files, (dir) => {
    const { blocks } = parseIn(dir, "import many/*");
    assert.equal(blocks.length, 50);
  });
});

Deno.test("import: errors in imported files name those files", () => {
  withTempDir({ "conf.d/bad.conf": "x.org {\n  log }\n}\n" }, (dir) => {
    assertCorefileError(
      () => parseIn(dir, "import conf.d/*"),
      `${join(dir, "conf.d/bad.conf")}:3`,
      "unexpected '}'",
    );
  });
});

Deno.test("import: a directory or a bad glob is an error", () => {
  withTempDir({ "d/x": "" }, (dir) => {
    assertCorefileError(
      () => parseIn(dir, "import d"),
      `${join(dir, "Corefile")}:1`,
      "is a directory",
    );
    assertCorefileError(
      () => parseIn(dir, "import d/[abc"),
      `${join(dir, "Corefile")}:1`,
      "unclosed",
    );
  });
});

Deno.test("loadCorefile: reads the file, lists every file read, resolves imports beside it", () => {
  withTempDir({
    "etc/Corefile": "import zones/*.conf\n.:53 {\n  import zones/common\n}\n",
    "etc/zones/a.conf": "a.org {\n}\n",
    "etc/zones/common": "whoami\n",
  }, (dir) => {
    const corefile = join(dir, "etc/Corefile");
    const parsed = loadCorefile(corefile, { env: noEnv, dnsPort: 1053 });
    assert.deepEqual(parsed.blocks.map(keysOf), [["dns://a.org.:1053"], ["dns://.:53"]]);
    assert.deepEqual(parsed.files, [
      corefile,
      join(dir, "etc/zones/a.conf"),
      join(dir, "etc/zones/common"),
    ]);
    assert.equal(parsed.blocks[1].file, corefile);
  });
});

Deno.test("loadCorefile: an unreadable Corefile is a clear error naming the path", () => {
  withTempDir({}, (dir) => {
    const path = join(dir, "missing/Corefile");
    let caught: unknown;
    try {
      loadCorefile(path);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof CorefileReadError);
    assert.ok(caught instanceof CorefileError);
    assert.ok(caught.message.startsWith(`${path} - cannot read the Corefile: `), caught.message);
  });
});
