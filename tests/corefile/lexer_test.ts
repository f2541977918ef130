import assert from "node:assert/strict";
import { isClose, isOpen, lex } from "../../src/corefile/lexer.ts";
import { assertCorefileError } from "./_helpers.ts";

/** [line, text] pairs of the tokens of `input`. */
function lines(input: string): [number, string][] {
  return lex(input, "Corefile").map((t) => [t.line, t.text]);
}

Deno.test("lexer: one token", () => {
  assert.deepEqual(lines("host:123"), [[1, "host:123"]]);
});

Deno.test("lexer: empty and blank inputs give no tokens", () => {
  for (const input of ["", "\n", " ", "\t\n", "# only a comment\n", "\r\n\r\n"]) {
    assert.deepEqual(lex(input, "Corefile"), [], JSON.stringify(input));
  }
});

Deno.test("lexer: whitespace separates, lines are counted", () => {
  assert.deepEqual(lines("a b c\nd e"), [[1, "a"], [1, "b"], [1, "c"], [2, "d"], [2, "e"]]);
  assert.deepEqual(lines("host:123\n\n\t\t\tdirective"), [[1, "host:123"], [3, "directive"]]);
});

Deno.test("lexer: braces are tokens when they stand alone", () => {
  assert.deepEqual(lines("host:123 {\n\tdirective\n}"), [
    [1, "host:123"],
    [1, "{"],
    [2, "directive"],
    [3, "}"],
  ]);
  assert.deepEqual(lines("host:123 { directive }"), [
    [1, "host:123"],
    [1, "{"],
    [1, "directive"],
    [1, "}"],
  ]);
  // Glued to a word, a brace is part of that word.
  assert.deepEqual(lines("example.org{ x}"), [[1, "example.org{"], [1, "x}"]]);
});

Deno.test("lexer: comments run from '#' at a token start to the end of the line", () => {
  const input = "host:123 {\n\t#comment\n\tdirective\n\t# comment\n\tfoobar # another comment\n}";
  assert.deepEqual(lines(input), [[1, "host:123"], [1, "{"], [3, "directive"], [5, "foobar"], [
    6,
    "}",
  ]]);
  // Inside a word, '#' is an ordinary character.
  assert.deepEqual(lines("foo#bar baz #x y\nz"), [[1, "foo#bar"], [1, "baz"], [2, "z"]]);
  assert.deepEqual(lines('a "# not a comment"'), [[1, "a"], [1, "# not a comment"]]);
});

Deno.test("lexer: quoted values", () => {
  assert.deepEqual(lines('a "quoted value" b\nfoobar'), [
    [1, "a"],
    [1, "quoted value"],
    [1, "b"],
    [2, "foobar"],
  ]);
  assert.deepEqual(lines('A "quoted \\"value\\" inside" B'), [
    [1, "A"],
    [1, 'quoted "value" inside'],
    [1, "B"],
  ]);
  assert.deepEqual(lines('empty "" string'), [[1, "empty"], [1, ""], [1, "string"]]);
  // A closing quote ends the token even without a space after it.
  assert.deepEqual(lines('"a"b'), [[1, "a"], [1, "b"]]);
  // A quote inside a word is an ordinary character.
  assert.deepEqual(lines('a"b" c'), [[1, 'a"b"'], [1, "c"]]);
});

Deno.test('lexer: only \\" is unescaped; other backslashes stay', () => {
  assert.deepEqual(lines('"don\'t\\escape"'), [[1, "don't\\escape"]]);
  assert.deepEqual(lines('"don\'t\\\\escape"'), [[1, "don't\\\\escape"]]);
  assert.deepEqual(lines('"C:\\php\\php-cgi.exe"'), [[1, "C:\\php\\php-cgi.exe"]]);
  // `\\` is a pair, so the quote after it closes the string.
  assert.deepEqual(lines('"a\\\\" b'), [[1, "a\\\\"], [1, "b"]]);
  // Unquoted, a backslash is literal and escapes nothing.
  assert.deepEqual(lines('a\\ b\\"c'), [[1, "a\\"], [1, 'b\\"c']]);
});

Deno.test("lexer: a quoted value may span lines; its line is where it starts", () => {
  const input = 'A "quoted value with line\n\t\t\tbreak inside" {\n\tfoobar\n}';
  assert.deepEqual(lines(input), [
    [1, "A"],
    [1, "quoted value with line\n\t\t\tbreak inside"],
    [2, "{"],
    [3, "foobar"],
    [4, "}"],
  ]);
});

Deno.test("lexer: lineStart marks the first token after a newline outside quotes", () => {
  const tokens = lex('a b\nc "x\ny" d # note\ne', "Corefile");
  assert.deepEqual(tokens.map((t) => [t.text, t.lineStart]), [
    ["a", true],
    ["b", false],
    ["c", true],
    ["x\ny", false],
    ["d", false],
    ["e", true],
  ]);
});

Deno.test("lexer: CR characters and a leading BOM are dropped", () => {
  assert.deepEqual(lines("skip those\r\nCR characters"), [
    [1, "skip"],
    [1, "those"],
    [2, "CR"],
    [2, "characters"],
  ]);
  assert.deepEqual(lines('\uFEFF.:53 {\r\n  log "a\r\nb"\r\n}\r\n'), [
    [1, ".:53"],
    [1, "{"],
    [2, "log"],
    [2, "a\nb"],
    [4, "}"],
  ]);
});

Deno.test("lexer: tokens carry the file and whether they were quoted", () => {
  const [open, quoted, close] = lex('{ "{" }', "conf.d/a.conf");
  assert.equal(open.file, "conf.d/a.conf");
  assert.ok(isOpen(open) && !isOpen(quoted) && isClose(close));
  assert.equal(quoted.quoted, true);
  assert.equal(quoted.text, "{");
});

Deno.test("lexer: an unterminated quote is an error at the line where it starts", () => {
  assertCorefileError(
    () => lex('.:53 {\n  log "oops\n}\n', "Corefile"),
    "Corefile:2",
    "unterminated",
  );
  assertCorefileError(() => lex('"a\\"', "x.conf"), "x.conf:1", "closing '\"'");
});
