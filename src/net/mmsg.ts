/**
 * The memory recvmmsg(2) and sendmmsg(2) work on, built once per socket: `count` messages, each
 * one mmsghdr, one iovec, one sockaddr slot and `slotSize` data bytes, all in one ArrayBuffer
 * (large, so V8 keeps it off its heap and it never moves), with the pointers between them filled
 * in at construction. Afterwards a batch only writes lengths, as 32-bit numbers (no BigInt).
 *
 * The layout is 64-bit Linux's (x86_64 and aarch64): `struct mmsghdr` is a 56-byte msghdr and a
 * 4-byte msg_len, padded to 64.
 */
import { SOCKADDR_SLOT } from "./peer.ts";

const MMSGHDR = 64;
const IOVEC = 16;
// Byte offsets inside one mmsghdr.
const MSG_NAME = 0;
const MSG_NAMELEN = 8;
const MSG_IOV = 16;
const MSG_IOVLEN = 24;
const MSG_FLAGS = 48;
const MSG_LEN = 56;

/** The CPU architectures whose struct layout this file knows. */
export const MMSG_ARCHES: readonly string[] = ["x86_64", "aarch64"];

/** Gives the address of a buffer (libc's memcpy(buf, buf, 0)). */
export type AddressOf = (buf: Uint8Array, same: Uint8Array, n: bigint) => number | bigint;

/** `count` messages of up to `slotSize` bytes, laid out for recvmmsg/sendmmsg. */
export class MessageArena {
  /** The whole arena. */
  readonly bytes: Uint8Array;
  /** Its 32-bit view (lengths and sockaddr words). */
  readonly words: Uint32Array;
  /** The mmsghdr array, what recvmmsg/sendmmsg are given. */
  readonly headers: Uint8Array;
  readonly #iovecs: number;
  readonly #names: number;
  readonly #data: number;

  constructor(readonly count: number, readonly slotSize: number, addressOf: AddressOf) {
    this.#iovecs = count * MMSGHDR;
    this.#names = this.#iovecs + count * IOVEC;
    this.#data = this.#names + count * SOCKADDR_SLOT;
    const size = this.#data + count * slotSize;
    const buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
    this.headers = this.bytes.subarray(0, this.#iovecs);
    const base = BigInt(addressOf(this.bytes, this.bytes, 0n));
    const view = new DataView(buffer);
    for (let i = 0; i < count; i++) {
      const h = i * MMSGHDR;
      const iov = this.#iovecs + i * IOVEC;
      view.setBigUint64(h + MSG_NAME, base + BigInt(this.nameOffset(i)), true);
      view.setUint32(h + MSG_NAMELEN, SOCKADDR_SLOT, true);
      view.setBigUint64(h + MSG_IOV, base + BigInt(iov), true);
      view.setBigUint64(h + MSG_IOVLEN, 1n, true);
      view.setBigUint64(iov, base + BigInt(this.dataOffset(i)), true);
      view.setBigUint64(iov + 8, BigInt(slotSize), true);
    }
  }

  /** The byte offset of message `i`'s data. */
  dataOffset(i: number): number {
    return this.#data + i * this.slotSize;
  }

  /** The byte offset of message `i`'s sockaddr (a multiple of 4). */
  nameOffset(i: number): number {
    return this.#names + i * SOCKADDR_SLOT;
  }

  /** The bytes received into message `i` (recvmmsg's msg_len). */
  received(i: number): number {
    return this.words[(i * MMSGHDR + MSG_LEN) >> 2];
  }

  /** Message `i`'s msg_flags (MSG_TRUNC: the datagram was longer than the slot). */
  flags(i: number): number {
    return this.words[(i * MMSGHDR + MSG_FLAGS) >> 2];
  }

  /** Gives message `i` a sockaddr length (recvmmsg overwrites it; sendmmsg reads it). */
  setNameLength(i: number, length: number): void {
    this.words[(i * MMSGHDR + MSG_NAMELEN) >> 2] = length;
  }

  /** Sets how many data bytes message `i` sends (its iov_len; the high word stays 0). */
  setDataLength(i: number, length: number): void {
    this.words[(this.#iovecs + i * IOVEC + 8) >> 2] = length;
  }

  /** The mmsghdr array from message `i` on, for the rest of a partial sendmmsg. */
  headersFrom(i: number): Uint8Array {
    return this.bytes.subarray(i * MMSGHDR, this.#iovecs);
  }
}
