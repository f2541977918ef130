/**
 * dns-packet loads only when a message needs it (src/dns/message.ts, codec_full.ts): a server
 * answering from memory never pays for it, and the first query that needs it waits for the load.
 * Checked in a process of its own, since this one has dns-packet loaded.
 */
import assert from "node:assert/strict";

const child = new URL("./_lazy_codec_child.ts", import.meta.url).pathname;

for (const path of ["decode", "encode", "forward"]) {
  const name = path === "forward"
    ? "forward reads common replies without dns-packet, and loads it for the first that needs it"
    : `a query that needs dns-packet to ${path} loads it and waits; plain ones do not`;
  Deno.test(name, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-env",
        "--allow-net=127.0.0.1",
        "--unstable-net",
        "--allow-ffi",
        child,
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.equal(text.trim(), "ok");
  });
}
