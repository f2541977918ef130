import assert from "node:assert/strict";
import { decode } from "../../../src/dns/message.ts";
import { ErrorsPlugin } from "../../../src/plugins/errors/handler.ts";
import { PluginError } from "../../../src/plugin/plugin.ts";
import { QueryContext } from "../../../src/plugin/query.ts";
import { memoryLog } from "../../helpers/memory_log.ts";
import { makeQuery } from "../../helpers/query.ts";

const addr = { transport: "udp" as const, hostname: "127.0.0.1", port: 53 };

function query(name: string): QueryContext {
  const p = makeQuery(name, "A");
  return new QueryContext(decode(p), p.length, "udp", addr, addr, ".");
}

Deno.test("errors: the name and the message are escaped, one line per error", async () => {
  const log = memoryLog();
  const plugin = new ErrorsPlugin(log, false, []);
  const rcode = await plugin.handle(
    query("x\n[error] plugin/idetcd: forged line.example"),
    () => Promise.reject(new PluginError('upstream sent "a\nb\\c"', 2)),
  );
  assert.equal(rcode, 2);
  assert.deepEqual(log.lines, [
    'ERROR SERVFAIL x\\010[error]\\ plugin/idetcd:\\ forged\\ line.example. A: upstream sent "a\\010b\\\\c"',
  ]);
});

Deno.test("errors: with stacktrace, the frames follow the escaped message", async () => {
  const log = memoryLog();
  const plugin = new ErrorsPlugin(log, true, []);
  await plugin.handle(query("a.example"), () => Promise.reject(new Error("bad\nthing")));
  const [first, ...frames] = log.lines[0].split("\n");
  assert.equal(first, "ERROR SERVFAIL a.example. A: Error: bad\\010thing");
  assert.ok(frames.length > 0 && frames.every((f) => /^\s+at /.test(f)));
});
