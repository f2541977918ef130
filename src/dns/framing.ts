/**
 * DNS over TCP framing (RFC 1035 4.2.2): each message is preceded by its 2-byte length.
 *
 * The reader reads into one buffer that it reuses, so a chunk costs no allocation and memory
 * per connection is bounded: the buffer starts small and grows, only for a frame announced
 * larger than it, to at most 2 + 65535 bytes. It reads only when the caller asks for a frame,
 * so a caller that stops asking stops reading (backpressure reaches the client through TCP).
 */

/** The largest frame: the length prefix and a 65535-byte message. */
const MAX_FRAME = 2 + 65535;
const INITIAL_SIZE = 4096;

/** Reads into `into`; resolves with the byte count, or null at end of stream. */
export type ReadFn = (into: Uint8Array) => Promise<number | null>;

/** Why `next` returned no frame. */
export type FrameEnd = "eof" | "idle" | "slow" | "empty" | "error";

/** Reads length-prefixed frames with an idle deadline and a whole-frame deadline. */
export class FrameReader {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** Why the last `next` returned null. */
  ended: FrameEnd | null = null;

  constructor(private readonly read: ReadFn, private readonly initialSize = INITIAL_SIZE) {
    this.#buf = new Uint8Array(initialSize);
  }

  /** Bytes buffered but not yet returned as frames. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The buffer's size (for tests: it must stay bounded). */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * The next frame's message (a copy the caller owns), or null at EOF, on a read error, when
   * no byte arrives within `idleMs`, when the whole frame does not arrive within `frameMs` of
   * its first byte, or for a zero-length frame. `ended` says which.
   */
  async next(idleMs: number, frameMs: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !(await this.#fill(1, idleMs, "idle"))) return null;
    const deadline = Date.now() + frameMs;
    if (!(await this.#fill(2, deadline - Date.now(), "slow"))) return null;
    const length = (this.#buf[this.#start] << 8) | this.#buf[this.#start + 1];
    if (length === 0) {
      this.ended = "empty";
      return null;
    }
    if (!(await this.#fill(2 + length, deadline - Date.now(), "slow"))) return null;
    const from = this.#start + 2;
    const frame = this.#buf.slice(from, from + length);
    this.#start = from + length;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // A large frame grew the buffer; give the memory back once it is drained.
      if (this.#buf.length > this.initialSize) this.#buf = new Uint8Array(this.initialSize);
    }
    return frame;
  }

  /** Reads until `n` bytes are buffered; false (and `ended` set) if that fails in time. */
  async #fill(n: number, ms: number, late: FrameEnd): Promise<boolean> {
    if (this.buffered >= n) return true;
    this.#makeRoom(n);
    const deadline = Date.now() + ms;
    while (this.buffered < n) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.ended = late;
        return false;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      let read: number | null | "late";
      try {
        read = await Promise.race([
          this.read(this.#buf.subarray(this.#end)),
          new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), left)),
        ]);
      } catch {
        this.ended = "error";
        return false;
      } finally {
        clearTimeout(timer);
      }
      if (read === "late") {
        this.ended = late;
        return false;
      }
      if (read === null) {
        this.ended = "eof";
        return false;
      }
      this.#end += read;
    }
    return true;
  }

  /** Makes sure `n` bytes from the current start fit: compact first, grow only if needed. */
  #makeRoom(n: number): void {
    if (this.#start + n <= this.#buf.length) return;
    if (n <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const size = Math.min(MAX_FRAME, Math.max(n, this.#buf.length * 2));
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#end -= this.#start;
    this.#start = 0;
  }
}

/** Writes to a stream; resolves with how many bytes were taken. */
export type WriteFn = (from: Uint8Array) => Promise<number>;

/**
 * Writes all of `data`. Resolves false when a write fails, or when one makes no progress within
 * `stallMs` (a peer that stopped reading); the caller then closes the stream.
 */
export async function writeAll(
  write: WriteFn,
  data: Uint8Array,
  stallMs = Infinity,
): Promise<boolean> {
  let off = 0;
  while (off < data.length) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = stallMs === Infinity ? null : new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), stallMs);
    });
    try {
      const n = await (stalled
        ? Promise.race([write(data.subarray(off)), stalled])
        : write(data.subarray(off)));
      if (n === null) {
        return false;
      }
      off += n;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
  return true;
}

/** `message` with its 2-byte length prefix. */
export function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(message.length + 2);
  framed[0] = message.length >> 8;
  framed[1] = message.length & 0xff;
  framed.set(message, 2);
  return framed;
}
