/**
 * The ceiling: a minimal Deno UDP server that answers each datagram with itself, QR set. It does
 * what etcdns's UDP loop does (receive, copy, send) and nothing else, so etcdns's queries per
 * second over this one is the share of Deno's UDP throughput the DNS work leaves.
 */
const port = Number(Deno.args[0] ?? 0);
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
console.log(`echo listening on ${(conn.addr as Deno.NetAddr).port}`);
const buffer = new Uint8Array(65535);
for (;;) {
  const [data, addr] = await conn.receive(buffer);
  const reply = data.slice();
  if (reply.length > 2) reply[2] |= 0x80;
  conn.send(reply, addr).catch(() => {});
}
