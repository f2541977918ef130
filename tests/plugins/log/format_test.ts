import assert from "node:assert/strict";
import { makeQuery } from "../../helpers/query.ts";
import { decode } from "../../../src/dns/message.ts";
import { compileFormat } from "../../../src/plugins/log/format.ts";
import { QueryContext } from "../../../src/plugin/query.ts";
import { LineBytes } from "../../../src/util/line_bytes.ts";

const addr = (port: number) => ({ transport: "udp" as const, hostname: "127.0.0.1", port });

Deno.test("log: {name} is escaped, so a forged name stays inside one line", () => {
  const name = "x\n[error] plugin/idetcd: forged line.example";
  const packet = makeQuery(name, "A", { id: 7 });
  const q = new QueryContext(decode(packet), packet.length, "udp", addr(5353), addr(53), ".");
  const out = new LineBytes();
  compileFormat("{common}")({ q, rcode: 0, rsize: 40, rflags: 0x8000, durationMs: 1 }, out);
  const line = new TextDecoder().decode(out.bytes());
  assert.ok(!line.includes("\n"));
  assert.match(
    line,
    /^127\.0\.0\.1:5353 - 7 "A IN x\\010\[error\]\\ plugin\/idetcd:\\ forged\\ line\.example\. udp /,
  );
});
