/**
 * The Corefile grammar: server blocks (keys, then an optional `{ ... }`), directives whose
 * arguments run to the end of their line, nested blocks, snippets and imports.
 */
import { type EnvLookup, expandEnv } from "./env.ts";
import { Importer, where } from "./imports.ts";
import { normalizeKey } from "./keys.ts";
import { isClose, isOpen, type LexToken } from "./lexer.ts";
import type { TokenStream } from "./stream.ts";
import {
  CorefileError,
  type Directive,
  keyString,
  type Position,
  type ServerBlock,
  type ServerKey,
} from "./types.ts";

/** What the parser needs besides tokens. */
export interface ParserOptions {
  dnsPort: number;
  /** The known directive names; when absent, any name is accepted. */
  directives?: ReadonlySet<string>;
  env: EnvLookup;
}

interface WrittenKey {
  text: string;
  at: Position;
}

function isImport(token: LexToken): boolean {
  return token.text === "import" && !token.quoted;
}

function envHint(written: string): string {
  return written.includes("{$") || written.includes("{%")
    ? ` ('${written}' is empty; is the environment variable set?)`
    : "";
}

/** Parses every server block from `stream`, expanding imports through `importer`. */
export function parseBlocks(
  stream: TokenStream,
  importer: Importer,
  opts: ParserOptions,
): ServerBlock[] {
  return new Parser(stream, importer, opts).run();
}

class Parser {
  #blocks: ServerBlock[] = [];
  #keysSeen = new Map<string, WrittenKey>();

  constructor(
    readonly stream: TokenStream,
    readonly importer: Importer,
    readonly opts: ParserOptions,
  ) {}

  run(): ServerBlock[] {
    for (let token = this.stream.next(); token; token = this.stream.next()) {
      if (isClose(token)) throw new CorefileError(token, "unexpected '}': no block is open here");
      if (isOpen(token)) {
        throw new CorefileError(token, "unexpected '{': write the server block keys before it");
      }
      if (isImport(token)) this.#importLine(token);
      else this.#serverBlock(token);
    }
    return this.#blocks;
  }

  #env(text: string): string {
    return expandEnv(text, this.opts.env);
  }

  #serverBlock(first: LexToken): void {
    const written = this.#keys(first);
    if (written.length === 0) {
      if (!this.stream.peek()) return; // only empty strings: nothing to serve, as in CoreDNS
      throw new CorefileError(first, `missing server block keys${envHint(first.text)}`);
    }
    if (written.length === 1 && /^\(.*\)$/.test(written[0].text)) {
      this.#snippet(written[0]);
      return;
    }
    const keys = written.flatMap((k) => this.#normalize(k));
    const open = this.stream.peek();
    let directives: Directive[];
    if (open && isOpen(open)) {
      this.stream.next();
      directives = this.#body(open, 0, null);
    } else {
      directives = this.#body(null, 0, first);
    }
    this.#blocks.push({ keys, directives, file: first.file, line: first.line });
  }

  /** Keys on one line, separated by spaces or commas; a trailing comma continues the line. */
  #keys(first: LexToken): WrittenKey[] {
    const keys: WrittenKey[] = [];
    let token: LexToken | null = first;
    while (token) {
      const text = this.#env(token.text);
      for (const piece of text.split(",")) {
        if (piece !== "") keys.push({ text: piece, at: token });
      }
      const expecting = text.endsWith(",");
      token = null;
      while (!token) {
        const next = this.stream.peek();
        if (!next || isOpen(next) || isClose(next)) {
          if (expecting) {
            const found = next ? `'${next.text}'` : "the end of the file";
            throw new CorefileError(
              next ?? first,
              `expected another server block key after ',' but found ${found}; ` +
                `remove the trailing comma`,
            );
          }
          return keys;
        }
        if (next.lineStart && !expecting) return keys;
        this.stream.next();
        if (next.lineStart && isImport(next)) this.#importLine(next);
        else token = next;
      }
    }
    return keys;
  }

  #normalize(key: WrittenKey): ServerKey[] {
    const keys = normalizeKey(key.text, key.at, this.opts.dnsPort);
    for (const k of keys) {
      const id = keyString(k);
      const earlier = this.#keysSeen.get(id);
      if (earlier) {
        throw new CorefileError(
          key.at,
          `${id} is served twice: by '${key.text}' here and by '${earlier.text}' at ` +
            `${where(earlier.at)}; each zone and port may appear in one server block only`,
        );
      }
      this.#keysSeen.set(id, key);
    }
    return keys;
  }

  /** `(name) { ... }`: keeps the body's tokens, unparsed, for `import name`. */
  #snippet(key: WrittenKey): void {
    const name = key.text.slice(1, -1);
    if (name === "") throw new CorefileError(key.at, "snippet name is empty: write (name) { ... }");
    const open = this.stream.next();
    if (!open || !isOpen(open)) {
      throw new CorefileError(key.at, `snippet '${name}' must be followed by '{'`);
    }
    const tokens: LexToken[] = [];
    for (let depth = 1;;) {
      const token = this.stream.next();
      if (!token) {
        throw new CorefileError(
          open,
          `the '{' of snippet '${name}' is never closed: expected '}' before the end of the file`,
        );
      }
      if (isOpen(token)) depth++;
      if (isClose(token) && --depth === 0) break;
      tokens.push(token);
    }
    this.importer.defineSnippet(name, tokens, key.at);
  }

  /**
   * Directives up to the `}` matching `open`, or to the end of the file for a server block
   * written without braces (`braceless` is then its first key, for messages).
   */
  #body(open: LexToken | null, depth: number, braceless: LexToken | null): Directive[] {
    const directives: Directive[] = [];
    for (;;) {
      const token = this.stream.next();
      if (!token) {
        if (!open) return directives;
        throw new CorefileError(
          open,
          "this '{' is never closed: expected '}' before the end of the file",
        );
      }
      if (isClose(token)) {
        if (open) return directives;
        throw new CorefileError(token, "unexpected '}': no block is open here");
      }
      const last = directives.at(-1);
      if (isOpen(token)) {
        // CoreDNS lets a block's `{` stand alone on the line after its directive.
        if (!token.lineStart || !last || last.block !== null) {
          throw new CorefileError(token, "unexpected '{': a block must follow a directive");
        }
        last.block = this.#body(token, depth + 1, null);
        this.#endOfLineAfterBlock();
      } else if (isImport(token)) {
        this.#importLine(token);
      } else {
        directives.push(this.#directive(token, depth, braceless));
      }
    }
  }

  #directive(token: LexToken, depth: number, braceless: LexToken | null): Directive {
    const name = this.#env(token.text);
    if (name === "") throw new CorefileError(token, `empty directive name${envHint(token.text)}`);
    const known = this.opts.directives;
    if (depth === 0 && known && !known.has(name)) {
      const hint = braceless
        ? ` (the server block '${braceless.text}' at ${where(braceless)} has no '{', ` +
          `so its body runs to the end of the file)`
        : "";
      throw new CorefileError(token, `Unknown directive '${name}'${hint}`);
    }
    const args: string[] = [];
    let block: Directive[] | null = null;
    for (let next = this.stream.peekSameLine(); next; next = this.stream.peekSameLine()) {
      if (isClose(next)) break;
      this.stream.next();
      if (isOpen(next)) {
        block = this.#body(next, depth + 1, null);
        this.#endOfLineAfterBlock();
        break;
      }
      args.push(this.#env(next.text));
    }
    return { name, args, block, file: token.file, line: token.line };
  }

  /** After a block's `}`, its line may hold only more `}`. */
  #endOfLineAfterBlock(): void {
    const next = this.stream.peekSameLine();
    if (next && !isClose(next)) {
      throw new CorefileError(next, `unexpected '${next.text}' after '}': start a new line`);
    }
  }

  /** `import ARG` at the start of a line: reads the argument and expands it in place. */
  #importLine(token: LexToken): void {
    const args: LexToken[] = [];
    for (let next = this.stream.peekSameLine(); next; next = this.stream.peekSameLine()) {
      if (isClose(next)) break;
      if (isOpen(next)) throw new CorefileError(next, "unexpected '{': import takes no block");
      args.push(next);
      this.stream.next();
    }
    if (args.length !== 1) {
      throw new CorefileError(
        token,
        `import takes one argument (a snippet name, a file or a glob), got ${args.length}`,
      );
    }
    const pattern = this.#env(args[0].text);
    if (pattern === "") {
      throw new CorefileError(token, `import path is empty${envHint(args[0].text)}`);
    }
    this.importer.expand(token, pattern);
  }
}
