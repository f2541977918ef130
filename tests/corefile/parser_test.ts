import assert from "node:assert/strict";
import { DEFAULT_COREFILE, defaultCorefile, parseCorefile } from "../../src/corefile/mod.ts";
import { assertCorefileError, keysOf, tokenCounts } from "./_helpers.ts";

const noEnv = () => undefined;

function parse(text: string, directives?: ReadonlySet<string>) {
  return parseCorefile(text, { env: noEnv, directives });
}

/** Keys and directive token counts of the first block, as CoreDNS's TestParseOneAndImport checks. */
function one(text: string): { keys: string[]; tokens: Record<string, number> } {
  const blocks = parse(text).blocks;
  if (blocks.length === 0) return { keys: [], tokens: {} };
  return { keys: keysOf(blocks[0]), tokens: tokenCounts(blocks[0]) };
}

Deno.test("parser: one block - keys and directive token counts", () => {
  const cases: [string, string[], Record<string, number>][] = [
    ["localhost", ["dns://localhost.:53"], {}],
    ["localhost\n  dir1", ["dns://localhost.:53"], { dir1: 1 }],
    ["localhost:1234\n  dir1 foo bar", ["dns://localhost.:1234"], { dir1: 3 }],
    ["localhost {\n    dir1\n  }", ["dns://localhost.:53"], { dir1: 1 }],
    ["localhost:1234 {\n  dir1 foo bar\n  dir2\n}", ["dns://localhost.:1234"], {
      dir1: 3,
      dir2: 1,
    }],
    ["dns://localhost other.org\n  dir1 foo bar", ["dns://localhost.:53", "dns://other.org.:53"], {
      dir1: 3,
    }],
    ["a.org b.org {\n  dir1 foo bar\n}", ["dns://a.org.:53", "dns://b.org.:53"], { dir1: 3 }],
    ["a.org, b.org {\n  dir1 foo bar\n}", ["dns://a.org.:53", "dns://b.org.:53"], { dir1: 3 }],
    ["a.org,b.org {\n}", ["dns://a.org.:53", "dns://b.org.:53"], {}],
    ["a.org , b.org {\n}", ["dns://a.org.:53", "dns://b.org.:53"], {}],
    ["host1:80, dns://host2.com\n  dir1 foo bar\n  dir2 baz", [
      "dns://host1.:80",
      "dns://host2.com.:53",
    ], { dir1: 3, dir2: 2 }],
    ["host1.com,\n  host2.com,\n  host3.com", [
      "dns://host1.com.:53",
      "dns://host2.com.:53",
      "dns://host3.com.:53",
    ], {}],
    ["host1.com:1234, host2.com\n  dir1 foo {\n    bar baz\n  }\n  dir2", [
      "dns://host1.com.:1234",
      "dns://host2.com.:53",
    ], { dir1: 6, dir2: 1 }],
    ["127.0.0.1\n  dir1 {\n    bar baz\n  }\n  dir2 {\n    foo bar\n  }", ["dns://127.0.0.1.:53"], {
      dir1: 5,
      dir2: 5,
    }],
    ["localhost\n  dir1 {\n  }", ["dns://localhost.:53"], { dir1: 3 }],
    ["localhost\n  dir1 {\n    nested {\n      foo\n    }\n  }\n  dir2 foo bar", [
      "dns://localhost.:53",
    ], { dir1: 7, dir2: 3 }],
    ["", [], {}],
    ['""', [], {}],
    ["# just a comment\n", [], {}],
    // Several directives of one name add up, as CoreDNS groups tokens by name.
    [".:53 {\n  forward a b\n  forward c\n}", ["dns://.:53"], { forward: 5 }],
  ];
  for (const [input, keys, tokens] of cases) {
    assert.deepEqual(one(input), { keys, tokens }, JSON.stringify(input));
  }
});

Deno.test("parser: several blocks", () => {
  const cases: [string, string[][]][] = [
    ["localhost", [["dns://localhost.:53"]]],
    ["localhost:1234", [["dns://localhost.:1234"]]],
    ["localhost:1234 {\n}\nlocalhost:2015 {\n}", [["dns://localhost.:1234"], [
      "dns://localhost.:2015",
    ]]],
    ["localhost:1234, host2", [["dns://localhost.:1234", "dns://host2.:53"]]],
    ["a.com, b.com {\n}\nc.com, d.com {\n}", [["dns://a.com.:53", "dns://b.com.:53"], [
      "dns://c.com.:53",
      "dns://d.com.:53",
    ]]],
    [".:53 { whoami }\nexample.org:53 { log }", [["dns://.:53"], ["dns://example.org.:53"]]],
    // The `{` may stand on the line after the keys.
    ["example.org\n{\n  whoami\n}\n.\n{\n}", [["dns://example.org.:53"], ["dns://.:53"]]],
  ];
  for (const [input, keys] of cases) {
    assert.deepEqual(parse(input).blocks.map(keysOf), keys, JSON.stringify(input));
  }
});

Deno.test("parser: directive tree with names, args, nested blocks, file and line", () => {
  const text = [
    "example.org:1053 {",
    "  forward . 1.1.1.1 9.9.9.9 {",
    "    max_fails 3",
    "    policy {",
    "      deep x",
    "    }",
    "  }",
    "  whoami",
    "}",
  ].join("\n");
  const [block] = parseCorefile(text, { file: "/etc/etcdns/Corefile", env: noEnv }).blocks;
  assert.equal(block.file, "/etc/etcdns/Corefile");
  assert.equal(block.line, 1);
  assert.deepEqual(block.directives, [
    {
      name: "forward",
      args: [".", "1.1.1.1", "9.9.9.9"],
      file: "/etc/etcdns/Corefile",
      line: 2,
      block: [
        { name: "max_fails", args: ["3"], block: null, file: "/etc/etcdns/Corefile", line: 3 },
        {
          name: "policy",
          args: [],
          file: "/etc/etcdns/Corefile",
          line: 4,
          block: [{
            name: "deep",
            args: ["x"],
            block: null,
            file: "/etc/etcdns/Corefile",
            line: 5,
          }],
        },
      ],
    },
    { name: "whoami", args: [], block: null, file: "/etc/etcdns/Corefile", line: 8 },
  ]);
});

Deno.test("parser: blocks on one line, and a block's '{' on the next line", () => {
  const [block] = parse(".:53 { forward . 1.1.1.1 { max_fails 3 } }").blocks;
  assert.deepEqual(block.directives[0].args, [".", "1.1.1.1"]);
  assert.deepEqual(block.directives[0].block!.map((d) => [d.name, d.args]), [["max_fails", ["3"]]]);
  // CoreDNS lets a directive's `{` stand alone on the next line.
  const [next] = parse(".:53 {\n  forward . 1.1.1.1\n  {\n    max_fails 3\n  }\n  log\n}").blocks;
  assert.deepEqual(next.directives.map((d) => [d.name, d.block?.length ?? null]), [
    ["forward", 1],
    ["log", null],
  ]);
});

Deno.test("parser: arguments run to the end of the line; quotes keep braces and newlines", () => {
  const [block] = parse('.:53 {\n  dir "a\nb" c\n  answer "{" "}" x{ }y\n  "import" z\n}').blocks;
  assert.deepEqual(block.directives.map((d) => [d.name, d.args]), [
    ["dir", ["a\nb", "c"]],
    ["answer", ["{", "}", "x{", "}y"]],
    ["import", ["z"]], // quoted, it is not the import statement
  ]);
});

Deno.test("parser: 'import' as an argument is just an argument", () => {
  const [block] = parse(".:53 {\n  basicauth / import password\n}").blocks;
  assert.deepEqual(block.directives[0].args, ["/", "import", "password"]);
});

Deno.test("parser: a block without braces runs to the end of the file", () => {
  const { blocks } = parse("example.org\nwhoami\nlog\n");
  assert.deepEqual(blocks[0].directives.map((d) => d.name), ["whoami", "log"]);
  // A second block after a brace-less one is read as directives; the known-directive check says so.
  assertCorefileError(
    () => parse("example.org\nwhoami\nother.org {\n  log\n}\n", new Set(["whoami", "log"])),
    "Corefile:3",
    "Unknown directive 'other.org' (the server block 'example.org' at Corefile:1 has no '{'",
  );
});

Deno.test("parser: BOM and CRLF files parse like plain ones", () => {
  const text = "\uFEFF# comment\r\nexample.org:1053 {\r\n  forward . 1.1.1.1\r\n  log\r\n}\r\n";
  const [block] = parse(text).blocks;
  assert.deepEqual(keysOf(block), ["dns://example.org.:1053"]);
  assert.deepEqual(block.directives.map((d) => [d.name, d.args, d.line]), [
    ["forward", [".", "1.1.1.1"], 3],
    ["log", [], 4],
  ]);
});

Deno.test("parser: CIDR keys expand into reverse zones; dnsPort sets the default port", () => {
  const { blocks } = parseCorefile("10.0.0.0/7 fd00::/8:1053 example.org {\n}", {
    dnsPort: 1053,
    env: noEnv,
  });
  assert.deepEqual(keysOf(blocks[0]), [
    "dns://10.in-addr.arpa.:1053",
    "dns://11.in-addr.arpa.:1053",
    "dns://d.f.ip6.arpa.:1053",
    "dns://example.org.:1053",
  ]);
  assert.deepEqual(blocks[0].keys.map((k) => k.raw), [
    "10.0.0.0/7",
    "10.0.0.0/7",
    "fd00::/8:1053",
    "example.org",
  ]);
});

Deno.test("parser: unknown directives are errors only at the server block level", () => {
  const known = new Set(["forward", "log"]);
  const [block] = parse(".:53 {\n  forward . 1.1.1.1 {\n    anything goes\n  }\n}", known).blocks;
  assert.equal(block.directives[0].block![0].name, "anything");
  assertCorefileError(
    () => parse(".:53 {\n  log\n  foo bar\n}", known),
    "Corefile:3",
    "Unknown directive 'foo'",
  );
  // Without a directive set, any name is accepted.
  assert.equal(parse(".:53 {\n  foo\n}").blocks[0].directives[0].name, "foo");
});

Deno.test("parser: duplicate zone and port across and within blocks", () => {
  const err = assertCorefileError(
    () => parse("example.org {\n}\n\nExample.org.:53 {\n}"),
    "Corefile:4",
    "dns://example.org.:53 is served twice",
  );
  assert.ok(err.message.includes("at Corefile:1"), err.message);
  assertCorefileError(() => parse("a.org a.org. {\n}"), "Corefile:1", "served twice");
  assertCorefileError(() => parse(".:53 {\n}\n.:53 {\n}"), "Corefile:3", "dns://.:53");
  assertCorefileError(
    () => parse("10.0.0.0/8 {\n}\n10.0.0.0/7 {\n}"),
    "Corefile:3",
    "10.in-addr.arpa.",
  );
  // The same zone on another port is another server.
  assert.equal(parse("example.org {\n}\nexample.org:1053 {\n}").blocks.length, 2);
});

Deno.test("parser: the default Corefile", () => {
  const [block] = parse(DEFAULT_COREFILE).blocks;
  assert.deepEqual(keysOf(block), ["dns://.:53"]);
  assert.deepEqual(block.directives.map((d) => d.name), ["whoami", "log"]);
  const [moved] = parse(defaultCorefile(1053)).blocks;
  assert.deepEqual(keysOf(moved), ["dns://.:1053"]);
});

Deno.test("parser: every syntax error names FILE:LINE", () => {
  const cases: [string, string, string][] = [
    ["}", "Corefile:1", "unexpected '}': no block is open"],
    ["{\n}", "Corefile:1", "write the server block keys before it"],
    ["a.org {\n}\n}", "Corefile:3", "unexpected '}'"],
    ["localhost\n  dir1 {\n  } }", "Corefile:3", "unexpected '}'"],
    ["localhost\n  dir1 {\n    foo", "Corefile:2", "this '{' is never closed"],
    [".:53 {\n  log\n", "Corefile:1", "this '{' is never closed"],
    ["a.org, {\n}", "Corefile:1", "expected another server block key after ','"],
    ["a.org, b.org,", "Corefile:1", "found the end of the file"],
    ["a.org,\n}", "Corefile:2", "remove the trailing comma"],
    [".:53 {\n  {\n  }\n}", "Corefile:2", "a block must follow a directive"],
    [".:53 {\n  log { } x\n}", "Corefile:2", "unexpected 'x' after '}'"],
    [".:53 {\n  log {\n  } {\n  }\n}", "Corefile:3", "unexpected '{' after '}'"],
    [".:53 {\n  log\n  {\n  }\n  {\n  }\n}", "Corefile:5", "a block must follow a directive"],
    ["{$NOPE} {\n}", "Corefile:1", "missing server block keys ('{$NOPE}' is empty"],
    ['"" {\n}', "Corefile:1", "missing server block keys"],
    [".:53 {\n  {$NOPE} x\n}", "Corefile:2", "empty directive name ('{$NOPE}' is empty"],
    [":53 {\n}", "Corefile:1", "write '.:53'"],
    ["https://.:443 {\n}", "Corefile:1", "'https://' (DNS over HTTPS) is not supported"],
    ['.:53 {\n  log "open\n}', "Corefile:2", "unterminated quoted string"],
    ["()  {\n}", "Corefile:1", "snippet name is empty"],
    ["(s)\nlog", "Corefile:1", "snippet 's' must be followed by '{'"],
    ["(s) {\n  log\n", "Corefile:1", "the '{' of snippet 's' is never closed"],
    ["(s) {\n}\n(s) {\n}", "Corefile:3", "snippet 's' is already defined at Corefile:1"],
    ["import", "Corefile:1", "import takes one argument"],
    ["import a b", "Corefile:1", "got 2"],
    [".:53 {\n  import }", "Corefile:2", "got 0"],
    [".:53 {\n  import x {\n  }\n}", "Corefile:2", "import takes no block"],
    ["import {$$}", "Corefile:1", "import path is empty ('{$$}' is empty"],
    ['import ""', "Corefile:1", "import path is empty"],
  ];
  for (const [input, at, text] of cases) assertCorefileError(() => parse(input), at, text);
});

Deno.test("parser: the file option names errors", () => {
  assertCorefileError(
    () => parseCorefile("a.org {\n  log\n  }\n}\n", { file: "/tmp/x/Corefile.test", env: noEnv }),
    "/tmp/x/Corefile.test:4",
    "unexpected '}'",
  );
});
