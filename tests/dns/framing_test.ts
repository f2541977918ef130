import assert from "node:assert/strict";
import { frame, FrameReader } from "../../src/dns/framing.ts";

/** A stream that hands out `chunks` one read at a time, then EOF (or hangs, if `hang`). */
function source(chunks: Uint8Array[], hang = false) {
  let reads = 0;
  const read = (into: Uint8Array): Promise<number | null> => {
    reads++;
    const next = chunks.shift();
    if (next === undefined) {
      if (!hang) return Promise.resolve(null);
      return new Promise(() => {}); // never answers: a silent client
    }
    const n = Math.min(into.length, next.length);
    into.set(next.subarray(0, n));
    if (n < next.length) chunks.unshift(next.subarray(n));
    return Promise.resolve(n);
  };
  return { read, reads: () => reads };
}

function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

Deno.test("frames split across chunks and several frames in one chunk come out whole", async () => {
  const a = frame(bytes(20, 1));
  const b = frame(bytes(300, 2));
  const c = frame(bytes(5, 3));
  const all = new Uint8Array([...a, ...b, ...c]);
  const chunks = [all.subarray(0, 1), all.subarray(1, 7), all.subarray(7, 200), all.subarray(200)];
  const reader = new FrameReader(source(chunks).read);
  assert.deepEqual(await reader.next(1000, 1000), bytes(20, 1));
  assert.deepEqual(await reader.next(1000, 1000), bytes(300, 2));
  assert.deepEqual(await reader.next(1000, 1000), bytes(5, 3));
  assert.equal(await reader.next(1000, 1000), null);
  assert.equal(reader.ended, "eof");
});

Deno.test("buffered frames are returned without reading again (backpressure)", async () => {
  const many = new Uint8Array(Array.from({ length: 50 }, () => [...frame(bytes(30, 9))]).flat());
  const src = source([many]);
  const reader = new FrameReader(src.read);
  await reader.next(1000, 1000);
  const reads = src.reads();
  for (let i = 1; i < 50; i++) assert.deepEqual(await reader.next(1000, 1000), bytes(30, 9));
  assert.equal(src.reads(), reads, "no read while whole frames are buffered");
});

Deno.test("the buffer stays bounded: it grows only for a large frame, then shrinks back", async () => {
  const big = frame(bytes(65535, 4));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < big.length; i += 1000) chunks.push(big.subarray(i, i + 1000));
  chunks.push(frame(bytes(10, 5)));
  const reader = new FrameReader(source(chunks).read);
  assert.equal(reader.capacity, 4096);
  assert.deepEqual(await reader.next(1000, 1000), bytes(65535, 4));
  assert.ok(reader.capacity <= 2 + 65535); // a length prefix and the largest message
  assert.deepEqual(await reader.next(1000, 1000), bytes(10, 5));
  assert.equal(reader.capacity, 4096);
});

Deno.test("a pipelined stream of 10,000 frames in odd chunks reads with a fixed buffer", async () => {
  const one = frame(bytes(33, 6));
  const stream = new Uint8Array(one.length * 10_000);
  for (let i = 0; i < 10_000; i++) stream.set(one, i * one.length);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 777) chunks.push(stream.subarray(i, i + 777));
  const reader = new FrameReader(source(chunks).read);
  let n = 0;
  while ((await reader.next(1000, 1000)) !== null) {
    n++;
    assert.equal(reader.capacity, 4096);
  }
  assert.equal(n, 10_000);
});

Deno.test("a zero-length frame ends the stream", async () => {
  const reader = new FrameReader(source([new Uint8Array([0, 0, 0, 5])]).read);
  assert.equal(await reader.next(1000, 1000), null);
  assert.equal(reader.ended, "empty");
});

Deno.test("silence past the idle timeout, and a frame slower than its deadline, end reading", async () => {
  const idle = new FrameReader(source([], true).read);
  assert.equal(await idle.next(30, 1000), null);
  assert.equal(idle.ended, "idle");

  // The length arrives, then nothing: the frame deadline (from the first byte) ends it.
  const slow = new FrameReader(source([new Uint8Array([0xff, 0xff, 1])], true).read);
  assert.equal(await slow.next(1000, 40), null);
  assert.equal(slow.ended, "slow");
});

Deno.test("a read error ends reading", async () => {
  const reader = new FrameReader(() => Promise.reject(new Error("reset")));
  assert.equal(await reader.next(1000, 1000), null);
  assert.equal(reader.ended, "error");
});
