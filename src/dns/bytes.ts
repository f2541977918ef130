/** Copies of packet bytes, cut from a shared slab. */

const SLAB_SIZE = 16384;
const SLAB_MAX_COPY = 2048;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/**
 * A copy of `bytes` that nothing else writes to. Small copies are views into a shared slab,
 * as Node's Buffer pool does: allocating one ArrayBuffer per packet costs ten times more.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > SLAB_MAX_COPY) return bytes.slice();
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const start = slabUsed;
  slab.set(bytes, start);
  slabUsed = (start + n + 7) & ~7;
  return slab.subarray(start, start + n);
}
