/** The log plugin's format language: CoreDNS's placeholders, compiled once per directive. */
import { Flag, RCODE_NAMES } from "../../dns/message.ts";
import { presentName } from "../../dns/present.ts";
import { decimal, decimalSeconds } from "../../util/decimal.ts";
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

type Part = string | ((e: LogEntry) => string);

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

const bracket = (ip: string) => (ip.includes(":") ? `[${ip}]` : ip);

/** Formats a duration as Go's `strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"` does. */
export function formatSeconds(ms: number): string {
  const ns = Math.round(ms * 1e6);
  return ns >= 0 && ns < 1e15 ? `${decimalSeconds(ns)}s` : `${ns / 1e9}s`;
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

const PLACEHOLDERS: Readonly<Record<string, (e: LogEntry) => string>> = {
  type: (e) => e.q.qtype,
  // The only placeholder the client chooses freely: escaped, so one query is one line.
  name: (e) => presentName(e.q.qname),
  class: (e) => e.q.qclass,
  proto: (e) => e.q.proto,
  remote: (e) => bracket(e.q.remote.hostname),
  local: (e) => bracket(e.q.local.hostname),
  port: (e) => decimal(e.q.remote.port),
  size: (e) => decimal(e.q.requestSize),
  duration: (e) => formatSeconds(e.durationMs),
  rcode: (e) => RCODE_NAMES[e.rcode] ?? String(e.rcode),
  rsize: (e) => decimal(e.rsize),
  ">rflags": (e) => rflagsOf(e.rflags & 0xfff0), // the named bits; the rcode bits vary
  ">bufsize": (e) => decimal(e.q.opt?.udpPayloadSize ?? 512),
  ">do": (e) => String(e.q.do),
  ">id": (e) => decimal(e.q.request.id),
  ">opcode": (e) =>
    OPCODES[(e.q.request.flags >> 11) & 0xf] ?? String((e.q.request.flags >> 11) & 0xf),
};

/** A compiled format: formatting a line is a walk over prebuilt parts. */
export type Formatter = (e: LogEntry) => string;

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
  return (e) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p(e);
    return out;
  };
}
