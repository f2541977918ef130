/**
 * A raw, independent DNS reply parser for the differential suite. It does not use src/dns on
 * purpose: the oracle comparison must not inherit a bug of the codec under test. Every record
 * becomes a canonical presentation string, so two replies compare as sorted lists.
 */

/** One resource record, canonical: `owner class type rdata` plus its TTL apart. */
export interface WireRecord {
  /** `owner CLASS TYPE RDATA` without the TTL (the set-comparison key). */
  key: string;
  ttl: number;
}

/** The OPT pseudo-record. */
export interface WireOpt {
  udpSize: number;
  extRcode: number;
  version: number;
  do: boolean;
  /** Each option as `code:hex`; EDE (15) as `EDE:info-code:text`. */
  options: string[];
}

/** A parsed reply. */
export interface WireReply {
  id: number;
  rcode: number;
  opcode: number;
  flags: Record<"QR" | "AA" | "TC" | "RD" | "RA" | "AD" | "CD", boolean>;
  question: string[];
  answer: WireRecord[];
  authority: WireRecord[];
  additional: WireRecord[];
  opt: WireOpt | null;
  size: number;
}

const TYPES: Record<number, string> = {
  1: "A",
  2: "NS",
  5: "CNAME",
  6: "SOA",
  12: "PTR",
  15: "MX",
  16: "TXT",
  28: "AAAA",
  33: "SRV",
  41: "OPT",
  255: "ANY",
};

/** The type code of a mnemonic (the corpus uses these). */
export const TYPE_CODE: Record<string, number> = Object.fromEntries(
  Object.entries(TYPES).map(([k, v]) => [v, Number(k)]),
);

function typeName(t: number): string {
  return TYPES[t] ?? `TYPE${t}`;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Reads a possibly compressed name at `off`; returns it (labels escaped, case kept) and the end. */
function readName(buf: Uint8Array, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  let hops = 0;
  for (;;) {
    if (off >= buf.length) throw new Error("name runs past the packet");
    const len = buf[off];
    if ((len & 0xc0) === 0xc0) {
      if (++hops > 64) throw new Error("compression loop");
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    const label = buf.subarray(off + 1, off + 1 + len);
    labels.push(
      Array.from(
        label,
        (c) =>
          c === 0x2e || c === 0x5c
            ? "\\" + String.fromCharCode(c)
            : c > 0x20 && c < 0x7f
            ? String.fromCharCode(c)
            : "\\" + String(c).padStart(3, "0"),
      ).join(""),
    );
    off += 1 + len;
  }
  return [labels.length ? labels.join(".") + "." : ".", end];
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function rdataText(buf: Uint8Array, type: number, off: number, len: number): string {
  const rd = buf.subarray(off, off + len);
  switch (type) {
    case 1:
      return len === 4 ? Array.from(rd).join(".") : `\\# ${len} ${hex(rd)}`;
    case 28: {
      if (len !== 16) return `\\# ${len} ${hex(rd)}`;
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(u16(rd, i).toString(16));
      return groups.join(":");
    }
    case 2:
    case 5:
    case 12:
      return readName(buf, off)[0].toLowerCase();
    case 15:
      return `${u16(buf, off)} ${readName(buf, off + 2)[0].toLowerCase()}`;
    case 33:
      return `${u16(buf, off)} ${u16(buf, off + 2)} ${u16(buf, off + 4)} ${
        readName(buf, off + 6)[0].toLowerCase()
      }`;
    case 6: {
      const [mname, o1] = readName(buf, off);
      const [rname, o2] = readName(buf, o1);
      const nums = [0, 4, 8, 12, 16].map((i) => u32(buf, o2 + i));
      return `${mname.toLowerCase()} ${rname.toLowerCase()} ${nums.join(" ")}`;
    }
    case 16: {
      const parts: string[] = [];
      for (let i = 0; i < len;) {
        const l = rd[i];
        parts.push(JSON.stringify(new TextDecoder().decode(rd.subarray(i + 1, i + 1 + l))));
        i += 1 + l;
      }
      return parts.join(" ");
    }
    default:
      return `\\# ${len} ${hex(rd)}`;
  }
}

/** Parses a reply; throws on a packet that does not parse. */
export function parseWire(buf: Uint8Array): WireReply {
  if (buf.length < 12) throw new Error(`reply of ${buf.length} bytes`);
  const f = u16(buf, 2);
  const counts = [u16(buf, 4), u16(buf, 6), u16(buf, 8), u16(buf, 10)];
  let off = 12;
  const question: string[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const [name, end] = readName(buf, off);
    question.push(`${name} ${u16(buf, end + 2)} ${typeName(u16(buf, end))}`);
    off = end + 4;
  }
  let opt: WireOpt | null = null;
  const sections: WireRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const [name, end] = readName(buf, off);
      const type = u16(buf, end);
      const klass = u16(buf, end + 2);
      const ttl = u32(buf, end + 4);
      const rdlen = u16(buf, end + 8);
      const rdoff = end + 10;
      if (rdoff + rdlen > buf.length) throw new Error("rdata runs past the packet");
      if (type === 41 && s === 2) {
        const options: string[] = [];
        for (let o = rdoff; o + 4 <= rdoff + rdlen;) {
          const code = u16(buf, o);
          const l = u16(buf, o + 2);
          const data = buf.subarray(o + 4, o + 4 + l);
          options.push(
            code === 15 && l >= 2
              ? `EDE:${u16(data, 0)}:${new TextDecoder().decode(data.subarray(2))}`
              : `${code}:${hex(data)}`,
          );
          o += 4 + l;
        }
        opt = {
          udpSize: klass,
          extRcode: ttl >>> 24,
          version: (ttl >>> 16) & 0xff,
          do: (ttl & 0x8000) !== 0,
          options,
        };
      } else {
        const cls = klass === 1 ? "IN" : `CLASS${klass}`;
        sections[s].push({
          key: `${name} ${cls} ${typeName(type)} ${rdataText(buf, type, rdoff, rdlen)}`,
          ttl,
        });
      }
      off = rdoff + rdlen;
    }
  }
  return {
    id: u16(buf, 0),
    rcode: (f & 0xf) | ((opt?.extRcode ?? 0) << 4),
    opcode: (f >> 11) & 0xf,
    flags: {
      QR: (f & 0x8000) !== 0,
      AA: (f & 0x0400) !== 0,
      TC: (f & 0x0200) !== 0,
      RD: (f & 0x0100) !== 0,
      RA: (f & 0x0080) !== 0,
      AD: (f & 0x0020) !== 0,
      CD: (f & 0x0010) !== 0,
    },
    question,
    answer: sections[0],
    authority: sections[1],
    additional: sections[2],
    opt,
    size: buf.length,
  };
}

/** Options for `buildQuery`. */
export interface WireQueryOptions {
  id: number;
  rd?: boolean;
  cd?: boolean;
  ad?: boolean;
  /** UDP size of an OPT record; absent means no EDNS. */
  edns?: number;
  do?: boolean;
}

/** A query packet, built by hand (names as given, case kept). */
export function buildQuery(name: string, type: string, o: WireQueryOptions): Uint8Array {
  const out: number[] = [o.id >> 8, o.id & 0xff];
  out.push((o.rd ?? true) ? 0x01 : 0, (o.ad ? 0x20 : 0) | (o.cd ? 0x10 : 0));
  out.push(0, 1, 0, 0, 0, 0, 0, o.edns === undefined ? 0 : 1);
  for (const label of name.split(".").filter((l) => l !== "")) {
    const b = new TextEncoder().encode(label);
    out.push(b.length, ...b);
  }
  out.push(0);
  const t = TYPE_CODE[type];
  if (t === undefined) throw new Error(`unknown type ${type}`);
  out.push(t >> 8, t & 0xff, 0, 1);
  if (o.edns !== undefined) {
    out.push(0, 0, 41, o.edns >> 8, o.edns & 0xff, 0, 0, o.do ? 0x80 : 0, 0, 0, 0);
  }
  return new Uint8Array(out);
}
