import assert from "node:assert/strict";
import { runtimeFlags } from "../helpers/etcdns.ts";
import {
  acceptBackoff,
  LogLimiter,
  maxConnectionsFor,
  parseOpenFileLimit,
} from "../../src/server/tcp_limits.ts";

Deno.test("back-off doubles from 5 ms to 1 s and resets after a success", () => {
  const b = acceptBackoff();
  const waits = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  b.reset();
  assert.equal(b.next(), 5);
});

Deno.test("the log limiter lets a message through once a second and counts repeats", () => {
  const l = new LogLimiter(1000);
  assert.equal(l.admit("tcp accept failed: EMFILE", 0), "tcp accept failed: EMFILE");
  for (let t = 1; t < 1000; t += 10) assert.equal(l.admit("tcp accept failed: EMFILE", t), null);
  assert.equal(l.admit("another error", 500), "another error", "distinct messages are separate");
  assert.equal(
    l.admit("tcp accept failed: EMFILE", 1000),
    "tcp accept failed: EMFILE (100 repeats suppressed)",
  );
  assert.equal(l.admit("tcp accept failed: EMFILE", 2500), "tcp accept failed: EMFILE");
});

Deno.test("the log limiter forgets old messages rather than grow without bound", () => {
  const l = new LogLimiter(1000, 4);
  for (let i = 0; i < 100; i++) assert.equal(l.admit(`error ${i}`, 0), `error ${i}`);
});

Deno.test("the connection limit is 1000, or half the open-file limit, at least 16", () => {
  assert.equal(maxConnectionsFor(null), 1000);
  assert.equal(maxConnectionsFor(1_048_576), 1000);
  assert.equal(maxConnectionsFor(1024), 512);
  assert.equal(maxConnectionsFor(256), 128);
  assert.equal(maxConnectionsFor(20), 16);
});

Deno.test("the open-file limit is read from /proc/PID/limits", () => {
  const text = "Limit                     Soft Limit           Hard Limit           Units\n" +
    "Max processes             63704                63704                processes\n" +
    "Max open files            1024                 524288               files\n";
  assert.equal(parseOpenFileLimit(text), 1024);
  assert.equal(parseOpenFileLimit(text.replace("1024 ", "unlimited ")), null);
  assert.equal(parseOpenFileLimit(""), null);
});

Deno.test("the open-file limit is read under the shipped binary's permissions", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/limit.ts`;
    const limits = new URL("../../src/server/tcp_limits.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { openFileLimit } from ${JSON.stringify(limits)};\nconsole.log(openFileLimit());\n`,
    );
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        'ulimit -n 200 && exec "$0" "$@"',
        Deno.execPath(),
        "run",
        "--quiet",
        ...runtimeFlags(),
        script,
      ],
      stderr: "inherit",
    }).output();
    assert.ok(out.success);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "200");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
