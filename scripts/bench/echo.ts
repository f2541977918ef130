/**
 * The ceiling: a minimal Deno UDP server that answers each datagram with itself, QR set. It does
 * what etcdns's UDP loop does (receive, copy, send) and nothing else, so etcdns's queries per
 * second over this one is the share of Deno's UDP throughput the DNS work leaves.
 *
 * With `--floor` (run with etcdns's runtime flags) it also arms a timer and binds libc through
 * FFI, as every etcdns process does before any of its own code serves: what that holds idle is
 * the memory floor the runtime sets (Deno loads its Node timers module for the first timer, and
 * its FFI code for the first dlopen).
 */
const floor = Deno.args.includes("--floor");
const port = Number(Deno.args.find((a) => !a.startsWith("--")) ?? 0);
if (floor) {
  // Loaded only here: the plain echo stays a few lines of Deno and nothing of etcdns.
  const { libc } = await import("../../src/net/libc.ts");
  if (libc() === null) throw new Error("--floor: libc could not be bound (run with scripts/flags)");
  Deno.unrefTimer(setInterval(() => {}, 1000));
}
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
console.log(`echo listening on ${(conn.addr as Deno.NetAddr).port}`);
const buffer = new Uint8Array(65535);
for (;;) {
  const [data, addr] = await conn.receive(buffer);
  const reply = data.slice();
  if (reply.length > 2) reply[2] |= 0x80;
  conn.send(reply, addr).catch(() => {});
}
