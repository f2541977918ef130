/**
 * The messages of an etcd gateway reply: one JSON object per line (a stream sends many, a
 * unary reply one, perhaps without the final newline), each at most a given size, so that a
 * misbehaving peer cannot make us buffer without end.
 */

const NEWLINE = 0x0a;

/**
 * The JSON objects in `body`, one per line; throws on a line over `maxBytes` or bad JSON.
 * `signal` ends the iteration: it cancels the body, so a read waiting on a silent peer returns
 * at once (aborting the request alone does not always wake it).
 */
export class JsonLines implements AsyncIterable<Record<string, unknown>> {
  readonly #body: ReadableStream<Uint8Array>;
  readonly #maxBytes: number;
  readonly #signal: AbortSignal | undefined;

  constructor(body: ReadableStream<Uint8Array>, maxBytes: number, signal?: AbortSignal) {
    this.#body = body;
    this.#maxBytes = maxBytes;
    this.#signal = signal;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Record<string, unknown>> {
    const reader = this.#body.getReader();
    const stop = () => reader.cancel().catch(() => {});
    if (this.#signal?.aborted) return;
    this.#signal?.addEventListener("abort", stop);
    const decoder = new TextDecoder();
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    const take = (last: Uint8Array): Record<string, unknown> | null => {
      const parts = held.length === 0 ? [last] : [...held, last];
      held = [];
      heldBytes = 0;
      let text = "";
      for (const p of parts) text += decoder.decode(p, { stream: true });
      text += decoder.decode();
      if (text.trim() === "") return null;
      const value: unknown = JSON.parse(text);
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new Error(`etcd sent a message that is not a JSON object: ${text.slice(0, 80)}`);
      }
      return value as Record<string, unknown>;
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let from = 0;
        for (let nl = value.indexOf(NEWLINE); nl >= 0; nl = value.indexOf(NEWLINE, from)) {
          if (heldBytes + nl - from > this.#maxBytes) throw this.#tooLarge();
          const message = take(value.subarray(from, nl));
          from = nl + 1;
          if (message !== null) yield message;
        }
        if (from < value.length) {
          heldBytes += value.length - from;
          if (heldBytes > this.#maxBytes) throw this.#tooLarge();
          held.push(value.subarray(from));
        }
      }
      if (heldBytes > 0) {
        const message = take(new Uint8Array(0));
        if (message !== null) yield message;
      }
    } finally {
      this.#signal?.removeEventListener("abort", stop);
      stop();
    }
  }

  #tooLarge(): Error {
    return new Error(`etcd sent a message over ${this.#maxBytes} bytes; refused`);
  }
}
