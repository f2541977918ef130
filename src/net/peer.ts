/**
 * The address of a UDP datagram's sender, read from the sockaddr that recvmmsg(2) filled: the
 * text form the plugins see (acl, log, whoami, ratelimit), and the raw bytes a reply is sent to.
 */
import { AF_INET, AF_INET6 } from "./sockaddr.ts";
import { ipv6GroupsText } from "./ipv6_text.ts";

/** Bytes per sockaddr slot: a sockaddr_in6 (28 bytes), rounded up to keep slots aligned. */
export const SOCKADDR_SLOT = 32;
/**
 * A sender: a Deno.NetAddr for the plugins (only its three fields are visible, as to a log or
 * JSON), plus the raw sockaddr words to reply to. An
 * IPv4-mapped address (a v4 client of a dual-stack socket) is presented as `a.b.c.d`, as the Deno
 * path presents it (`clientAddr`) and as CoreDNS does.
 */
export class UdpPeer implements Deno.NetAddr {
  readonly transport = "udp" as const;
  // The sockaddr's seven 32-bit words as numbers: a typed array per datagram costs more.
  readonly #w0: number;
  readonly #w1: number;
  readonly #w2: number;
  readonly #w3: number;
  readonly #w4: number;
  readonly #w5: number;
  readonly #w6: number;
  readonly #length: number;

  /** The peer whose sockaddr (`rawLength` bytes, 16 or 28) is at word `w` of `words`. */
  constructor(
    readonly hostname: string,
    readonly port: number,
    rawLength: number,
    words: Uint32Array,
    w: number,
  ) {
    this.#length = rawLength;
    this.#w0 = words[w];
    this.#w1 = words[w + 1];
    this.#w2 = words[w + 2];
    this.#w3 = words[w + 3];
    this.#w4 = words[w + 4];
    this.#w5 = words[w + 5];
    this.#w6 = words[w + 6];
  }

  /** Writes the raw sockaddr at word `w` of `words`; returns its length in bytes. */
  writeRaw(words: Uint32Array, w: number): number {
    words[w] = this.#w0;
    words[w + 1] = this.#w1;
    words[w + 2] = this.#w2;
    words[w + 3] = this.#w3;
    words[w + 4] = this.#w4;
    words[w + 5] = this.#w5;
    words[w + 6] = this.#w6;
    return this.#length;
  }
}

/** At most this many IPv4 hostnames are cached; the cache starts over when full. */
const V4_CACHE_MAX = 4096;
const v4Names = new Map<number, string>();

/** `a.b.c.d` for four address bytes at `at`, cached by their 32-bit value. */
function v4Text(bytes: Uint8Array, at: number): string {
  const key = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>>
    0;
  let name = v4Names.get(key);
  if (name === undefined) {
    if (v4Names.size >= V4_CACHE_MAX) v4Names.clear();
    name = `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
    v4Names.set(key, name);
  }
  return name;
}

/** Whether the 16 address bytes at `at` are an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
function isV4Mapped(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 10; i++) if (bytes[at + i] !== 0) return false;
  return bytes[at + 10] === 0xff && bytes[at + 11] === 0xff;
}

/**
 * The text of the 16 IPv6 address bytes at `at` as Rust (and so Deno) prints it: lowercase hex,
 * the longest run of two or more zero groups (the first on a tie) as `::`, and `::ffff:a.b.c.d`
 * for an IPv4-mapped address.
 */
export function ipv6Text(bytes: Uint8Array, at: number): string {
  if (isV4Mapped(bytes, at)) return `::ffff:${v4Text(bytes, at + 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1]);
  return ipv6GroupsText(groups);
}

/**
 * The peer in the sockaddr at byte `at` of `bytes` (whose 32-bit view is `words`; `at` is
 * 4-aligned), or null for a family other than IPv4/IPv6. `unmap` presents IPv4-mapped addresses
 * as IPv4 (for senders; a bound local address keeps its form).
 */
export function readPeer(
  bytes: Uint8Array,
  words: Uint32Array,
  at: number,
  unmap = true,
): UdpPeer | null {
  const family = bytes[at] | (bytes[at + 1] << 8);
  const port = (bytes[at + 2] << 8) | bytes[at + 3];
  let hostname: string;
  let length: number;
  if (family === AF_INET) {
    hostname = v4Text(bytes, at + 4);
    length = 16;
  } else if (family === AF_INET6) {
    hostname = unmap && isV4Mapped(bytes, at + 8)
      ? v4Text(bytes, at + 20)
      : ipv6Text(bytes, at + 8);
    length = 28;
  } else {
    return null;
  }
  return new UdpPeer(hostname, port, length, words, at >> 2);
}
