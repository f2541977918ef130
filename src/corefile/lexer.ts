/**
 * The Corefile lexer, as CoreDNS's caddyfile lexer: whitespace separates tokens, a token that
 * starts with `"` runs to the next unescaped `"`, and `#` at the start of a token comments out
 * the rest of the line.
 */
import { CorefileError, type Token } from "./types.ts";

/** A token plus what the parser needs to know about line ends. */
export interface LexToken extends Token {
  /** Whether a newline (outside quotes) stands between this token and the previous one. */
  lineStart: boolean;
}

const BOM = "\uFEFF";

/** Whether `token` is a structural `{` (written alone and unquoted). */
export function isOpen(token: Token): boolean {
  return token.text === "{" && !token.quoted;
}

/** Whether `token` is a structural `}` (written alone and unquoted). */
export function isClose(token: Token): boolean {
  return token.text === "}" && !token.quoted;
}

/** Splits `text` (the content of `file`) into tokens with their 1-based line numbers. */
export function lex(text: string, file: string): LexToken[] {
  const src = text.startsWith(BOM) ? text.slice(1) : text;
  const tokens: LexToken[] = [];
  let line = 1;
  let lineStart = true;
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === "\n") {
      line++;
      lineStart = true;
      i++;
    } else if (/\s/.test(ch)) {
      // `\r` is whitespace too, which is how CRLF line ends lose it.
      i++;
    } else if (ch === "#") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (ch === '"') {
      const start = line;
      let value = "";
      i++;
      for (;;) {
        if (i >= src.length) {
          throw new CorefileError(
            { file, line: start },
            `unterminated quoted string: expected a closing '"'`,
          );
        }
        const c = src[i];
        if (c === '"') {
          i++;
          break;
        }
        if (c === "\\" && i + 1 < src.length) {
          // Only `\"` is an escape; any other backslash pair stays as written.
          const n = src[i + 1];
          if (n === "\n") line++;
          if (n !== "\r") value += n === '"' ? '"' : "\\" + n;
          else value += "\\";
          i += 2;
          continue;
        }
        if (c === "\n") line++;
        if (c !== "\r") value += c;
        i++;
      }
      tokens.push({ text: value, quoted: true, file, line: start, lineStart });
      lineStart = false;
    } else {
      let end = i;
      while (end < src.length && !/\s/.test(src[end])) end++;
      tokens.push({ text: src.slice(i, end), quoted: false, file, line, lineStart });
      lineStart = false;
      i = end;
    }
  }
  return tokens;
}
