/**
 * The log plugin's format language: CoreDNS's placeholders, compiled once per directive into
 * writers that put a line's bytes straight into a LineBytes (see line_bytes.ts for why).
 */
import { Flag, RCODE_NAMES } from "../../dns/message.ts";
import { presentName } from "../../dns/present.ts";
import type { LineBytes } from "../../util/line_bytes.ts";
import type { QueryContext } from "../../plugin/query.ts";

/** CoreDNS's Common Log Format. */
export const COMMON_FORMAT =
  '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
/** The Common Log Format plus the query opcode. */
export const COMBINED_FORMAT = COMMON_FORMAT + ' "{>opcode}"';

/** What a log line is made from: the query, and the reply as sent. */
export interface LogEntry {
  q: QueryContext;
  rcode: number;
  rsize: number;
  /** Response header flags as sent. */
  rflags: number;
  durationMs: number;
}

/** Writes one placeholder's text. */
type PartWriter = (e: LogEntry, out: LineBytes) => void;
type Part = string | PartWriter;

const OPCODES: Readonly<Record<number, string>> = {
  0: "QUERY",
  1: "IQUERY",
  2: "STATUS",
  4: "NOTIFY",
  5: "UPDATE",
};

const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [Flag.QR, "qr"],
  [Flag.AA, "aa"],
  [Flag.TC, "tc"],
  [Flag.RD, "rd"],
  [Flag.RA, "ra"],
  [0x40, "z"],
  [Flag.AD, "ad"],
  [Flag.CD, "cd"],
];

/** An address as CoreDNS logs it: an IPv6 one in brackets. */
function writeAddress(out: LineBytes, ip: string): void {
  if (ip.includes(":")) out.byte(0x5b).text(ip).byte(0x5d);
  else out.text(ip);
}

/** A duration as Go's `strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"` prints it. */
function writeSeconds(out: LineBytes, ms: number): void {
  const ns = Math.round(ms * 1e6);
  if (ns >= 0 && ns < 1e15) out.seconds(ns);
  else out.text(String(ns / 1e9));
  out.byte(0x73);
}

/** `{>rflags}` by flags value: a handful of distinct values, each spelled once. */
const rflagsSpelled = new Map<number, string>();

function rflagsOf(flags: number): string {
  let spelled = rflagsSpelled.get(flags);
  if (spelled === undefined) {
    spelled = FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n).join(",");
    if (rflagsSpelled.size < 256) rflagsSpelled.set(flags, spelled);
  }
  return spelled;
}

const PLACEHOLDERS: Readonly<Record<string, PartWriter>> = {
  type: (e, out) => out.text(e.q.qtype),
  // The only placeholder the client chooses freely: escaped, so one query is one line.
  name: (e, out) => out.text(presentName(e.q.qname)),
  class: (e, out) => out.text(e.q.qclass),
  proto: (e, out) => out.text(e.q.proto),
  remote: (e, out) => writeAddress(out, e.q.remote.hostname),
  local: (e, out) => writeAddress(out, e.q.local.hostname),
  port: (e, out) => out.decimal(e.q.remote.port),
  size: (e, out) => out.decimal(e.q.requestSize),
  duration: (e, out) => writeSeconds(out, e.durationMs),
  rcode: (e, out) => out.text(RCODE_NAMES[e.rcode] ?? String(e.rcode)),
  rsize: (e, out) => out.decimal(e.rsize),
  ">rflags": (e, out) => out.text(rflagsOf(e.rflags & 0xfff0)), // the named bits; rcode varies
  ">bufsize": (e, out) => out.decimal(e.q.opt?.udpPayloadSize ?? 512),
  ">do": (e, out) => out.text(e.q.do ? "true" : "false"),
  ">id": (e, out) => out.decimal(e.q.request.id),
  ">opcode": (e, out) => {
    const opcode = (e.q.request.flags >> 11) & 0xf;
    out.text(OPCODES[opcode] ?? String(opcode));
  },
};

/** A compiled format: writing a line is a walk over prebuilt parts. */
export type Formatter = (e: LogEntry, out: LineBytes) => void;

/**
 * Compiles a format. `{common}` and `{combined}` expand first; `{/LABEL}` (metadata) prints `-`
 * since etcdns has no metadata plugin; an unknown placeholder is kept literally, as CoreDNS does.
 */
export function compileFormat(format: string): Formatter {
  const expanded = format.replaceAll("{common}", COMMON_FORMAT).replaceAll(
    "{combined}",
    COMBINED_FORMAT,
  );
  const parts: Part[] = [];
  const re = /\{([^{}]+)\}/g;
  let last = 0;
  for (const m of expanded.matchAll(re)) {
    if (m.index > last) parts.push(expanded.slice(last, m.index));
    const name = m[1];
    parts.push(PLACEHOLDERS[name] ?? (name.startsWith("/") ? "-" : m[0]));
    last = m.index + m[0].length;
  }
  if (last < expanded.length) parts.push(expanded.slice(last));
  return (e, out) => {
    for (const p of parts) {
      if (typeof p === "string") out.text(p);
      else p(e, out);
    }
  };
}
