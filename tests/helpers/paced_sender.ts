/** A paced UDP sender in a process of its own, for tests of listeners that block their thread. */

/**
 * Sends `count` datagrams to `port` from a separate process, one every `gapUs`, and counts the
 * replies (the server's loop blocks its own thread while it lingers or gathers, so the sender must
 * not share it). Returns the replies received.
 */
export async function pacedSender(port: number, count: number, gapUs: number): Promise<number> {
  const code = `
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const to = { transport: "udp", hostname: "127.0.0.1", port: ${port} };
    let got = 0;
    const reading = (async () => { for await (const _ of s) if (++got === ${count}) break; })();
    const start = performance.now();
    for (let i = 0; i < ${count}; i++) {
      while (performance.now() - start < i * ${gapUs / 1000}) { /* pace */ }
      await s.send(new Uint8Array([i & 255]), to);
    }
    await Promise.race([reading, new Promise((r) => setTimeout(r, 2000))]);
    console.log(got);
    Deno.exit(0);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", code],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}
