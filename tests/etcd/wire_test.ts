import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { JsonLines } from "../../src/etcd/json_lines.ts";
import { decodeRange, decodeTxn, decodeWatch, encodeRequest } from "../../src/etcd/wire.ts";

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const bytes = chunks.map((c) => typeof c === "string" ? new TextEncoder().encode(c) : c);
  return new ReadableStream({
    pull(controller) {
      const next = bytes.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function collect(lines: JsonLines): Promise<Record<string, unknown>[]> {
  const out = [];
  for await (const m of lines) out.push(m);
  return out;
}

Deno.test("encodeRequest sends byte fields as base64, whatever their form, and the rest as given", () => {
  const body = JSON.parse(encodeRequest({
    key: "k€",
    range_end: new Uint8Array([0]),
    limit: "10",
    compare: [{ key: Buffer.from("b"), value: new Uint8Array([1, 2, 3]).subarray(1) }],
    success: [{ request_put: { key: "p", value: "v", lease: "7" } }],
  }));
  assert.equal(Buffer.from(body.key, "base64").toString(), "k€");
  assert.equal(body.range_end, "AA==");
  assert.equal(body.limit, "10");
  assert.equal(body.compare[0].key, "Yg==", "a Buffer is not sent as its toJSON object");
  assert.equal(body.compare[0].value, Buffer.from([2, 3]).toString("base64"));
  assert.deepEqual(body.success[0].request_put, { key: "cA==", value: "dg==", lease: "7" });
});

Deno.test("decoders fill in the fields the gateway leaves out", () => {
  const empty = decodeRange({ header: { revision: "4" } });
  assert.deepEqual(empty.kvs, []);
  assert.equal(empty.more, false);
  assert.equal(empty.count, "0");
  assert.equal(empty.header.cluster_id, "0");
  const one = decodeRange({ kvs: [{ key: "Zm9v", mod_revision: "3" }], count: "1" });
  assert.equal(one.kvs[0].key.toString(), "foo");
  assert.equal(one.kvs[0].value.length, 0);
  assert.equal(one.kvs[0].lease, "0");
  const txn = decodeTxn({ responses: [{ response_range: { kvs: [{ key: "YQ==" }] } }] });
  assert.equal(txn.succeeded, false);
  assert.equal(txn.responses[0].response_range?.kvs[0].key.toString(), "a");
  const watch = decodeWatch({
    events: [{ kv: { key: "YQ==", value: "MQ==" } }, {
      type: "DELETE",
      kv: { key: "YQ==" },
      prev_kv: { key: "YQ==", value: "MQ==" },
    }],
  });
  assert.equal(watch.created, false);
  assert.equal(watch.events[0].type, "PUT", "PUT is the zero value, so it is left out");
  assert.equal(watch.events[1].type, "DELETE");
  assert.equal(watch.events[1].prev_kv?.value.toString(), "1");
});

Deno.test("JsonLines splits messages across and within chunks, with or without a last newline", async () => {
  const got = await collect(
    new JsonLines(streamOf('{"a":1}\n{"b":', '2}\n\n{"c"', ":3}"), 1024),
  );
  assert.deepEqual(got, [{ a: 1 }, { b: 2 }, { c: 3 }]);
  const euro = new TextEncoder().encode('{"s":"€"}\n');
  const split = await collect(new JsonLines(streamOf(euro.subarray(0, 7), euro.subarray(7)), 64));
  assert.deepEqual(split, [{ s: "€" }], "a character split between chunks");
});

Deno.test("JsonLines refuses a message over its cap, even one that never ends", async () => {
  await assert.rejects(
    collect(new JsonLines(streamOf(`{"v":"${"x".repeat(100)}"}\n`), 64)),
    /over 64 bytes/,
  );
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(1000).fill(0x20));
    },
  });
  await assert.rejects(collect(new JsonLines(endless, 10_000)), /over 10000 bytes/);
  await assert.rejects(collect(new JsonLines(streamOf("[1]\n"), 64)), /not a JSON object/);
});
