import assert from "node:assert/strict";
import { expandEnv, processEnv } from "../../src/corefile/env.ts";
import { parseCorefile } from "../../src/corefile/mod.ts";
import { keyString } from "../../src/corefile/types.ts";
import { withTempDir } from "./_helpers.ts";

const VARS: Record<string, string> = {
  PORT: "8080",
  ADDRESS: "servername.com",
  FOOBAR: "foobar",
  PARTIAL_DIR: "r1",
  LOOP: "{$LOOP}",
};
const env = (name: string) => VARS[name];

function firstKey(text: string): string {
  return keyString(parseCorefile(text, { env }).blocks[0].keys[0]);
}

function firstArgs(text: string): string[] {
  return parseCorefile(text, { env }).blocks[0].directives[0].args;
}

Deno.test("env: substitution in keys, both syntaxes, several per token", () => {
  assert.equal(firstKey("{$ADDRESS}"), "dns://servername.com.:53");
  assert.equal(firstKey("di{$PARTIAL_DIR}"), "dns://dir1.:53");
  assert.equal(firstKey("{$ADDRESS}:{$PORT}"), "dns://servername.com.:8080");
  assert.equal(firstKey("{%ADDRESS%}:{$PORT}"), "dns://servername.com.:8080");
  assert.equal(firstKey("{$ADDRESS}:{%PORT%}"), "dns://servername.com.:8080");
  assert.equal(firstKey("dns://{$ADDRESS}, other.org"), "dns://servername.com.:53");
});

Deno.test("env: substitution in directive names and arguments, quoted or not", () => {
  assert.deepEqual(firstArgs(".:{%PORT%}\ndir1 {$FOOBAR}"), ["foobar"]);
  assert.deepEqual(firstArgs(".:1234\ndir1 {%ADDRESS%}/{%FOOBAR%}"), ["servername.com/foobar"]);
  assert.deepEqual(firstArgs('.:1234\ndir1 "Test {$FOOBAR} test"'), ["Test foobar test"]);
  assert.deepEqual(firstArgs('.:1234\nanswer "{{ .Name }} {$FOOBAR}"'), ["{{ .Name }} foobar"]);
  const block = parseCorefile(".:53 {\n  {$FOOBAR} {\n    sub{$PORT} x\n  }\n}", { env }).blocks[0];
  assert.equal(block.directives[0].name, "foobar");
  assert.equal(block.directives[0].block![0].name, "sub8080");
});

Deno.test("env: malformed references stay as written; unset variables become empty", () => {
  assert.deepEqual(firstArgs(".:1234\ndir1 {%ADDRESS}"), ["{%ADDRESS}"]);
  assert.deepEqual(firstArgs(".:1234\ndir1 a{$NOPE}b"), ["ab"]);
  assert.deepEqual(firstArgs(".:1234\ndir1 {$PORT$}"), [""]);
  assert.equal(expandEnv("{$}{%%}{%}", env), "{$}{%%}{%}");
  assert.equal(expandEnv("{$ unclosed", env), "{$ unclosed");
  assert.equal(expandEnv("plain", () => assert.fail("no lookup for plain text")), "plain");
});

Deno.test("env: a substituted value is not expanded again", () => {
  assert.equal(expandEnv("x{$LOOP}y", env), "x{$LOOP}y");
  assert.equal(expandEnv("{$FOOBAR}{%PORT%}", env), "foobar8080");
});

Deno.test("env: the process environment is the default", () => {
  Deno.env.set("ETCDNS_COREFILE_TEST_ZONE", "Example.NET");
  try {
    const parsed = parseCorefile("{$ETCDNS_COREFILE_TEST_ZONE}:1053 {\n}\n");
    assert.equal(keyString(parsed.blocks[0].keys[0]), "dns://example.net.:1053");
    assert.equal(processEnv("ETCDNS_COREFILE_TEST_ZONE"), "Example.NET");
    // A name the OS cannot hold is just unset, never a crash.
    assert.equal(processEnv("A=B"), undefined);
  } finally {
    Deno.env.delete("ETCDNS_COREFILE_TEST_ZONE");
  }
});

Deno.test("env: substitution in import paths", () => {
  withTempDir({ "conf.d/extra.conf": "extra.org {\n  whoami\n}\n" }, (dir) => {
    const lookup = (name: string) => (name === "CONF_DIR" ? "conf.d" : undefined);
    const parsed = parseCorefile("import {$CONF_DIR}/*.conf\n", {
      file: `${dir}/Corefile`,
      env: lookup,
    });
    assert.equal(keyString(parsed.blocks[0].keys[0]), "dns://extra.org.:53");
  });
});
