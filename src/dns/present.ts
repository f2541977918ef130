/**
 * Presentation format for strings that come from the network, so that they reach logs as one
 * inert token: a query name can never start a new log line or forge a `[ERROR]` prefix.
 *
 * `presentName` escapes as miekg/dns (CoreDNS) prints an unpacked name: `\DDD` for bytes outside
 * printable ASCII, a backslash before `. space ' @ ; ( ) " \`. Names here are already decoded
 * strings (dns-packet joins labels with "." and decodes them as UTF-8), so a dot inside a label
 * reads as a label separator and a non-ASCII character is escaped as its UTF-8 bytes; for every
 * ASCII name the output is CoreDNS's, byte for byte.
 */

const encoder = new TextEncoder();

/** Whether `s` needs no escaping as a name: printable ASCII without specials (the usual case). */
function plainName(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || SPECIAL[c] === 1) return false;
  }
  return true;
}

/** miekg's isDomainNameLabelSpecial, minus "." (our label separator). */
const SPECIAL = new Uint8Array(128);
for (const ch of " '@;()\"\\") SPECIAL[ch.charCodeAt(0)] = 1;

function ddd(b: number): string {
  return "\\" + String(b).padStart(3, "0");
}

/** A domain name (as decoded) in presentation format, escaped as CoreDNS logs it. */
export function presentName(name: string): string {
  if (plainName(name)) return name;
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) out += ddd(c);
    else if (c < 0x7f) out += SPECIAL[c] === 1 ? "\\" + name[i] : name[i];
    else {
      // Outside ASCII: the UTF-8 bytes, each escaped (a surrogate pair is one code point).
      const cp = name.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of encoder.encode(ch)) out += ddd(b);
      i += ch.length - 1;
    }
  }
  return out;
}

/**
 * Free text that may carry bytes from the network (error messages, record data) made safe for a
 * one-line log: control characters, DEL and backslash become `\DDD`/`\\`; the rest is kept,
 * spaces included, so messages stay readable.
 */
export function escapeText(text: string): string {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c < 0x20 || c === 0x7f || c === 0x5c || (c >= 0x80 && c < 0xa0) || c === 0x2028 ||
      c === 0x2029
    ) break;
  }
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) out += "\\\\";
    else if (c < 0x20 || c === 0x7f) out += ddd(c);
    else if ((c >= 0x80 && c < 0xa0) || c === 0x2028 || c === 0x2029) {
      for (const b of encoder.encode(text[i])) out += ddd(b);
    } else out += text[i];
  }
  return out;
}
