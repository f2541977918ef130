import assert from "node:assert/strict";
import { parseFlags, UsageError } from "../../src/cli/flags.ts";

const SPECS = {
  conf: { type: "string" },
  "dns.port": { type: "string", default: "53" },
  endpoint: { type: "list" },
  out: { type: "string", short: "o" },
  json: { type: "boolean" },
} as const;

Deno.test("flags: CoreDNS single-dash and GNU double-dash spellings, mixed with arguments", () => {
  const { values, rest } = parseFlags(
    [
      "-conf",
      "C",
      "list",
      "--dns.port=1053",
      "--endpoint",
      "a,b",
      "-endpoint=c",
      "-o",
      "F",
      "--json",
    ],
    SPECS,
  );
  assert.deepEqual(values, {
    conf: "C",
    "dns.port": "1053",
    endpoint: ["a,b", "c"],
    out: "F",
    json: true,
  });
  assert.deepEqual(rest, ["list"]);
  const d = parseFlags(["--", "-conf"], SPECS);
  assert.deepEqual(d.rest, ["-conf"]);
  assert.equal(d.values["dns.port"], "53");
  assert.equal(d.values.json, false);
  assert.equal(d.values.endpoint, undefined);
});

Deno.test("flags: unknown flags, missing values and bad booleans are usage errors", () => {
  assert.throws(() => parseFlags(["--bogus"], SPECS), UsageError);
  assert.throws(() => parseFlags(["-conf"], SPECS), /-conf needs a value/);
  assert.throws(() => parseFlags(["--json=maybe"], SPECS), /--json takes true or false/);
});
