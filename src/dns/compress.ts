/**
 * Whole-message rewrites on the wire: name compression of what dns-packet wrote, and cutting a
 * reply to a size at a record boundary.
 */
import { OPT_TYPE } from "./codes.ts";

/** Where the name at `off` ends (after its zero or its pointer); -1 if it runs past `end`. */
function skipName(buf: Uint8Array, off: number, end: number): number {
  for (let hops = 0; hops < 128 && off < end; hops++) {
    const n = buf[off];
    if (n === 0) return off + 1;
    if ((n & 0xc0) === 0xc0) return off + 2 <= end ? off + 2 : -1;
    if (n > 63) return -1;
    off += n + 1;
  }
  return -1;
}

/**
 * Compresses the owner names of an uncompressed message (what dns-packet writes: questions and
 * records for the types our fast path declines). Record data is copied as it is, so any type is
 * safe. Returns `wire` itself when it cannot parse it or nothing is gained.
 */
export function compressWire(wire: Uint8Array): Uint8Array {
  const len = wire.length;
  if (len < 12) return wire;
  const qd = (wire[4] << 8) | wire[5];
  const rr = ((wire[6] << 8) | wire[7]) + ((wire[8] << 8) | wire[9]) +
    ((wire[10] << 8) | wire[11]);
  const out = new Uint8Array(len);
  out.set(wire.subarray(0, 12));
  let o = 12;
  let i = 12;
  const seen = new Map<string, number>();
  const name = (): boolean => {
    // Labels of the name at i, uncompressed (dns-packet never writes pointers).
    const labels: number[] = [];
    let p = i;
    for (let hops = 0; hops < 128; hops++) {
      if (p >= len) return false;
      const n = wire[p];
      if (n === 0) break;
      if (n > 63 || p + 1 + n > len) return false;
      labels.push(p);
      p += n + 1;
    }
    const nameEnd = p + 1;
    let k = 0;
    for (; k < labels.length; k++) {
      const at = seen.get(latin1(wire, labels[k], p));
      if (at !== undefined) {
        const head = labels[k] - i;
        out.set(wire.subarray(i, labels[k]), o);
        for (let j = 0; j < k; j++) {
          const target = o + labels[j] - i;
          if (target < 0x4000) seen.set(latin1(wire, labels[j], p), target);
        }
        o += head;
        out[o++] = 0xc0 | (at >> 8);
        out[o++] = at & 0xff;
        i = nameEnd;
        return true;
      }
    }
    for (let j = 0; j < labels.length; j++) {
      const target = o + labels[j] - i;
      if (target < 0x4000) seen.set(latin1(wire, labels[j], p), target);
    }
    out.set(wire.subarray(i, nameEnd), o);
    o += nameEnd - i;
    i = nameEnd;
    return true;
  };
  for (let q = 0; q < qd; q++) {
    if (!name() || i + 4 > len) return wire;
    out.set(wire.subarray(i, i + 4), o);
    i += 4;
    o += 4;
  }
  for (let r = 0; r < rr; r++) {
    if (!name() || i + 10 > len) return wire;
    const rdlength = (wire[i + 8] << 8) | wire[i + 9];
    const next = i + 10 + rdlength;
    if (next > len) return wire;
    out.set(wire.subarray(i, next), o);
    o += next - i;
    i = next;
  }
  if (i !== len || o === len) return wire;
  return out.subarray(0, o);
}

/** Bytes from..to as a string key, one char per byte. */
function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/**
 * Cuts an encoded message to at most `maxSize` bytes by keeping the longest run of whole
 * records (answers, then authorities, then additionals) that fits with the OPT record, which
 * must be the last record if present and is always kept. Pointers only point backwards, so a
 * prefix of a compressed message is still valid. TC is set only when an answer or authority
 * record was cut (RFC 2181 9: additionals are optional). Returns `wire` if it already fits or
 * cannot be parsed.
 */
export function truncateWire(wire: Uint8Array, maxSize: number): Uint8Array {
  const len = wire.length;
  if (len <= maxSize || len < 12) return wire;
  const qd = (wire[4] << 8) | wire[5];
  const an = (wire[6] << 8) | wire[7];
  const ns = (wire[8] << 8) | wire[9];
  const ar = (wire[10] << 8) | wire[11];
  let off = 12;
  for (let q = 0; q < qd; q++) {
    off = skipName(wire, off, len);
    if (off < 0 || off + 4 > len) return wire;
    off += 4;
  }
  const questionsEnd = off;
  const total = an + ns + ar;
  const ends = new Array<number>(total);
  let lastType = -1;
  for (let r = 0; r < total; r++) {
    off = skipName(wire, off, len);
    if (off < 0 || off + 10 > len) return wire;
    lastType = (wire[off] << 8) | wire[off + 1];
    off += 10 + ((wire[off + 8] << 8) | wire[off + 9]);
    if (off > len) return wire;
    ends[r] = off;
  }
  const hasOpt = ar > 0 && lastType === OPT_TYPE;
  const records = hasOpt ? total - 1 : total;
  const optStart = hasOpt ? (records > 0 ? ends[records - 1] : questionsEnd) : len;
  const optLength = len - optStart;
  const budget = maxSize - optLength;
  let keep = 0;
  while (keep < records && ends[keep] <= budget) keep++;
  const cutAt = keep > 0 ? ends[keep - 1] : questionsEnd;
  const out = new Uint8Array(cutAt + optLength);
  out.set(wire.subarray(0, cutAt));
  out.set(wire.subarray(optStart), cutAt);
  const keptAn = Math.min(keep, an);
  const keptNs = Math.min(keep - keptAn, ns);
  const keptAr = keep - keptAn - keptNs + (hasOpt ? 1 : 0);
  out[6] = keptAn >> 8;
  out[7] = keptAn & 0xff;
  out[8] = keptNs >> 8;
  out[9] = keptNs & 0xff;
  out[10] = keptAr >> 8;
  out[11] = keptAr & 0xff;
  if (keptAn < an || keptNs < ns) out[2] |= 0x02; // TC
  return out;
}
