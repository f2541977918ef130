/** The shapes a parsed Corefile takes, shared by the parser, the server and every plugin setup. */

/** Where something stands in a Corefile, for error messages. */
export interface Position {
  /** The file as the user named it (or as an import resolved it). */
  file: string;
  /** 1-based line number. */
  line: number;
}

/** One lexical token. */
export interface Token extends Position {
  text: string;
  /** Whether the token was written in double quotes (so `{` or `}` in it is plain text). */
  quoted: boolean;
}

/**
 * One directive line with its arguments and optional nested block. A plugin's properties inside
 * its block are directives too, so nesting to any depth has one shape.
 */
export interface Directive extends Position {
  name: string;
  args: string[];
  /** The `{ ... }` block opened on this line, or null when there is none. */
  block: Directive[] | null;
}

/** How a server block is served: plain DNS (UDP and TCP) or DNS over TLS (RFC 7858). */
export type Transport = "dns" | "tls";

/** A normalised server block key, e.g. `dns://example.org.:1053` or `tls://.:853`. */
export interface ServerKey {
  /** The scheme; keys print as CoreDNS prints them. */
  transport: Transport;
  /** Lowercased fully qualified zone, e.g. "example.org." or "10.in-addr.arpa.". */
  zone: string;
  port: number;
  /** The key as written, before normalisation. */
  raw: string;
}

/** One server block: its keys (one written key may give several, e.g. a CIDR) and directives. */
export interface ServerBlock extends Position {
  keys: ServerKey[];
  directives: Directive[];
}

/** An error in a Corefile. Its message always begins with `FILE:LINE - `. */
export class CorefileError extends Error {
  constructor(readonly position: Position, readonly detail: string) {
    super(`${position.file}:${position.line} - ${detail}`);
    this.name = "CorefileError";
  }
}

/** Formats a key as CoreDNS prints it: `dns://zone:port` or `tls://zone:port`. */
export function keyString(key: ServerKey): string {
  return `${key.transport}://${key.zone}:${key.port}`;
}
