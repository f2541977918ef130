/** The Corefile language: parse text or load a file into normalised server blocks. */
import { type EnvLookup, processEnv } from "./env.ts";
import { fileId, Importer } from "./imports.ts";
import { lex } from "./lexer.ts";
import { parseBlocks } from "./parser.ts";
import { TokenStream } from "./stream.ts";
import { CorefileError, type ServerBlock } from "./types.ts";
import { errorMessage } from "../util/errors.ts";

export { CorefileError };
export type { Directive, Position, ServerBlock, ServerKey } from "./types.ts";
export { keyString } from "./types.ts";
export { normalizeKey, reverseZonesOf } from "./keys.ts";

/** How to read a Corefile. */
export interface CorefileOptions {
  /** The file name for messages; imports are relative to it. Default "Corefile". */
  file?: string;
  /** The port of keys written without one (CoreDNS's -dns.port). Default 53. */
  dnsPort?: number;
  /** The known directive names; an unknown one is an error. When absent, anything goes. */
  directives?: ReadonlySet<string>;
  /** Environment lookup for `{$VAR}` and `{%VAR%}`. Default: the process environment. */
  env?: EnvLookup;
}

/** A parsed Corefile. */
export interface ParsedCorefile {
  blocks: ServerBlock[];
  /** Things worth telling the user that are not errors, e.g. a glob import matching nothing. */
  warnings: string[];
  /** Absolute paths of every file read (the Corefile and its imports), for reload hashing. */
  files: string[];
}

/** The configuration served when there is no Corefile, as CoreDNS does. */
export const DEFAULT_COREFILE = ".:53 {\n    whoami\n    log\n}\n";

/** DEFAULT_COREFILE on port `dnsPort` (CoreDNS's -dns.port moves the default server too). */
export function defaultCorefile(dnsPort = 53): string {
  return DEFAULT_COREFILE.replace(".:53", `.:${dnsPort}`);
}

/** Parses Corefile `text`. Throws a CorefileError (`FILE:LINE - ...`) on the first error. */
export function parseCorefile(text: string, opts: CorefileOptions = {}): ParsedCorefile {
  return parse(text, opts, []);
}

/** Reads and parses the Corefile at `path`; imports are relative to it. */
export function loadCorefile(path: string, opts: CorefileOptions = {}): ParsedCorefile {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new CorefileReadError(path, errorMessage(e));
  }
  return parse(text, { ...opts, file: path }, [path]);
}

/** The Corefile itself could not be read; there is no line to point at. */
export class CorefileReadError extends CorefileError {
  constructor(path: string, reason: string) {
    super({ file: path, line: 0 }, `cannot read the Corefile: ${reason}`);
    this.message = `${path} - cannot read the Corefile: ${reason}`;
    this.name = "CorefileReadError";
  }
}

function parse(text: string, opts: CorefileOptions, read: string[]): ParsedCorefile {
  const file = opts.file ?? "Corefile";
  const dnsPort = opts.dnsPort ?? 53;
  if (!Number.isInteger(dnsPort) || dnsPort < 1 || dnsPort > 65535) {
    throw new RangeError(`dnsPort must be a port number from 1 to 65535, got ${dnsPort}`);
  }
  const stream = new TokenStream({ id: fileId(file), label: file, tokens: lex(text, file) });
  const importer = new Importer(stream);
  for (const path of read) importer.noteFile(path);
  const blocks = parseBlocks(stream, importer, {
    dnsPort,
    directives: opts.directives,
    env: opts.env ?? processEnv,
  });
  return { blocks, warnings: importer.warnings, files: importer.files };
}
