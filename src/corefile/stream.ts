/**
 * The parser's token stream. `import` pushes the imported tokens as a frame on a stack, so the
 * parser reads them in place of the import line (as CoreDNS splices tokens), while the stack
 * knows which files and snippets are being expanded: importing one of them again is a cycle.
 */
import type { LexToken } from "./lexer.ts";
import { CorefileError, type Position } from "./types.ts";

/** Tokens from one place: a file, or a snippet's body. */
export interface Source {
  /** Identity for cycle detection: a file's real path, or `(name)` for a snippet. */
  id: string;
  /** How messages name it: the file path, or `snippet 'name'`. */
  label: string;
  tokens: LexToken[];
}

interface Frame {
  /** Several sources when one glob import matched several files; read one after another. */
  sources: Source[];
  index: number;
  pos: number;
}

/** A stack of token sources read as one stream. */
export class TokenStream {
  #frames: Frame[] = [];
  /** Set when a source ended: the next token then starts a line, as if in a new file. */
  #boundary = false;

  /** Starts the stream with the root file's tokens. */
  constructor(root: Source) {
    this.#frames.push({ sources: [root], index: 0, pos: 0 });
  }

  /** Reads `sources` next, in place of the import at `at`. Throws on an import cycle. */
  push(sources: Source[], at: Position): void {
    const active = this.#frames.map((f) => f.sources[f.index]);
    for (const source of sources) {
      const i = active.findIndex((s) => s.id === source.id);
      if (i >= 0) {
        const chain = [...active.slice(i).map((s) => s.label), source.label].join(" -> ");
        throw new CorefileError(at, `import cycle: ${chain}`);
      }
    }
    if (sources.length > 0) this.#frames.push({ sources, index: 0, pos: 0 });
  }

  /** Consumes and returns the next token, or null at the end of everything. */
  next(): LexToken | null {
    const token = this.peek();
    if (token) this.#frames[this.#frames.length - 1].pos++;
    this.#boundary = false;
    return token;
  }

  /**
   * The next token without consuming it. It first leaves finished sources, so call it only
   * between statements, never between an import's argument and its push.
   */
  peek(): LexToken | null {
    this.#settle();
    const frame = this.#frames.at(-1);
    if (!frame) return null;
    const token = frame.sources[frame.index].tokens[frame.pos];
    return this.#boundary || frame.pos === 0 ? { ...token, lineStart: true } : token;
  }

  /** The next token if it stands on the current line of the current source, else null. */
  peekSameLine(): LexToken | null {
    const frame = this.#frames.at(-1);
    if (!frame || this.#boundary || frame.pos === 0) return null;
    const token = frame.sources[frame.index].tokens[frame.pos];
    return token && !token.lineStart ? token : null;
  }

  #settle(): void {
    for (;;) {
      const frame = this.#frames.at(-1);
      if (!frame) return;
      if (frame.pos < frame.sources[frame.index].tokens.length) return;
      this.#boundary = true;
      if (frame.index + 1 < frame.sources.length) {
        frame.index++;
        frame.pos = 0;
      } else {
        this.#frames.pop();
      }
    }
  }
}
