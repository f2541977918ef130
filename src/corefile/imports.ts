/**
 * `import NAME|FILE|GLOB`: pastes a snippet defined earlier, or the tokens of files, relative to
 * the file that holds the import. A glob with no match is a warning; a missing file is an error.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { expandGlob, GlobError, hasGlobMeta } from "./glob.ts";
import { lex, type LexToken } from "./lexer.ts";
import type { Source, TokenStream } from "./stream.ts";
import { CorefileError, type Position } from "./types.ts";
import { errorMessage } from "../util/errors.ts";

/** A bound on expansions, so that snippets importing each other twice over cannot explode. */
export const MAX_IMPORTS = 10_000;

/** Where a position is, as messages print it. */
export function where(at: Position): string {
  return `${at.file}:${at.line}`;
}

/** The identity of a file for cycle detection: its real path when it exists. */
export function fileId(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Resolves imports into the token stream and records snippets, warnings and files read. */
export class Importer {
  readonly warnings: string[] = [];
  /** Absolute paths of every file read, in reading order. */
  readonly files: string[] = [];
  #snippets = new Map<string, { tokens: LexToken[]; at: Position }>();
  #count = 0;

  /** Creates an importer that pushes imported tokens onto `stream`. */
  constructor(readonly stream: TokenStream) {}

  /** Records that `path` was read, for reload hashing. */
  noteFile(path: string): void {
    const abs = resolve(path);
    if (!this.files.includes(abs)) this.files.push(abs);
  }

  /** Defines snippet `name` (written `(name) { ... }` at `at`). */
  defineSnippet(name: string, tokens: LexToken[], at: Position): void {
    const earlier = this.#snippets.get(name);
    if (earlier) {
      throw new CorefileError(at, `snippet '${name}' is already defined at ${where(earlier.at)}`);
    }
    this.#snippets.set(name, { tokens, at });
  }

  /** Expands `import pattern` written at `at`: its tokens are read next. */
  expand(at: Position, pattern: string): void {
    if (++this.#count > MAX_IMPORTS) {
      throw new CorefileError(at, `more than ${MAX_IMPORTS} imports expanded; check for loops`);
    }
    const snippet = this.#snippets.get(pattern);
    if (snippet) {
      const source = { id: `(${pattern})`, label: `snippet '${pattern}'`, tokens: snippet.tokens };
      this.stream.push([source], at);
      return;
    }
    const path = isAbsolute(pattern) ? pattern : join(dirname(at.file), pattern);
    let paths: string[];
    if (hasGlobMeta(pattern)) {
      try {
        paths = expandGlob(path);
      } catch (e) {
        if (e instanceof GlobError) throw new CorefileError(at, `import: ${e.message}`);
        throw e;
      }
      if (paths.length === 0) {
        this.warnings.push(`${where(at)} - import '${pattern}': no files match`);
      }
    } else {
      paths = [path];
    }
    this.stream.push(paths.map((p) => this.#read(p, pattern, at)), at);
  }

  #read(path: string, pattern: string, at: Position): Source {
    let text: string;
    try {
      if (Deno.statSync(path).isDirectory) {
        throw new CorefileError(at, `import '${pattern}': ${path} is a directory, not a file`);
      }
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (e instanceof CorefileError) throw e;
      if (e instanceof Deno.errors.NotFound) {
        throw new CorefileError(
          at,
          `import '${pattern}': no snippet '${pattern}' is defined above this line, ` +
            `and file ${path} does not exist`,
        );
      }
      throw new CorefileError(at, `import '${pattern}': cannot read ${path}: ${errorMessage(e)}`);
    }
    this.noteFile(path);
    return { id: fileId(path), label: path, tokens: lex(text, path) };
  }
}
