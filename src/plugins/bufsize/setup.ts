/** `bufsize [SIZE]`: the server block's UDP size, 512 to 4096, default 1232. */
import { ADVERTISED_UDP_SIZE } from "../../dns/edns.ts";
import type { Setup } from "../../plugin/plugin.ts";
import { expectArgs, expectNoBlock, parseInteger } from "../../corefile/args.ts";

/** RFC 6891's bounds, as CoreDNS checks them. */
export const MIN_BUFSIZE = 512;
export const MAX_BUFSIZE = 4096;

/**
 * Sets up bufsize. Like bind it adds no handler: the size is the block's, set once here and
 * read by the server when it encodes a reply, so it costs nothing per query.
 */
export const setupBufsize: Setup = (d, ctx) => {
  expectArgs(d, "bufsize", 0, 1);
  expectNoBlock(d, "bufsize");
  const size = d.args.length === 0
    ? ADVERTISED_UDP_SIZE
    : parseInteger(d.args[0], d, "bufsize", "the buffer size", MIN_BUFSIZE, MAX_BUFSIZE);
  ctx.bufsize?.(size);
  return null;
};
