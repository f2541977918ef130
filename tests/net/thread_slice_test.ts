/**
 * Short time slices for serving threads: asked for without touching the thread's policy or nice
 * value, and asked for by a real etcdns's UDP thread. Linux before 6.12 accepts the request but
 * keeps its default slice, so the slice itself is checked only from 6.12 on.
 */
import assert from "node:assert/strict";
import { libc } from "../../src/net/libc.ts";
import { SERVING_SLICE_NS, threadScheduling } from "../../src/net/thread_slice.ts";
import { startEtcdns } from "../helpers/etcdns.ts";
import { waitFor } from "../helpers/wait.ts";

const [major, minor] = Deno.osRelease().split(".").map(Number);
const slicesHonoured = major > 6 || (major === 6 && minor >= 12);
if (!slicesHonoured) {
  console.log(`skipped: the slice checks (Linux ${Deno.osRelease()} predates custom slices)`);
}

Deno.test("requestThreadSlice: keeps the thread's policy and nice value", async () => {
  // In a child, niced by 3, so that neither the test runner's thread nor its nice value change.
  const script = `
    import { libc } from "${new URL("../../src/net/libc.ts", import.meta.url)}";
    import { requestThreadSlice, threadScheduling } from "${new URL(
    "../../src/net/thread_slice.ts",
    import.meta.url,
  )}";
    const c = libc();
    const before = threadScheduling(c);
    const refused = requestThreadSlice(c);
    console.log(JSON.stringify({ before, refused, after: threadScheduling(c) }));
  `;
  const out = await new Deno.Command("nice", {
    args: ["-n", "3", Deno.execPath(), "eval", "--allow-ffi", "--allow-read", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const { before, refused, after } = JSON.parse(text);
  assert.equal(refused, "");
  assert.equal(before.nice, 3);
  assert.deepEqual({ policy: after.policy, nice: after.nice }, { policy: 0, nice: 3 });
  if (slicesHonoured) assert.equal(after.runtimeNs, SERVING_SLICE_NS);
});

Deno.test({
  name: "etcdns: the thread that serves UDP asks for short slices",
  ignore: !slicesHonoured,
  fn: async () => {
    const c = libc();
    assert.ok(c, "FFI should be available to the tests (Linux, --allow-ffi)");
    const p = await startEtcdns({ corefile: ".:{PORT} {\n    bind 127.0.0.1\n    whoami\n}\n" });
    try {
      // The main thread serves the first UDP socket.
      await waitFor(
        "the serving thread's slice",
        () => threadScheduling(c, p.pid)?.runtimeNs === SERVING_SLICE_NS,
        5000,
      );
      assert.notEqual(threadScheduling(c)?.runtimeNs, SERVING_SLICE_NS, "not the test's own");
    } finally {
      await p.stop();
    }
  },
});
