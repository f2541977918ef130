/**
 * The name pattern of idetcd: a Go text/template subset, as the original plugin takes it.
 * `worker{{.ID}}.tf.local.` renders slot 3 as `worker3.tf.local.`; a printf width such as
 * `{{printf "%02d" .ID}}` renders `worker03.tf.local.`.
 *
 * A pattern is also read backwards: a query name is matched against it to find the slot it
 * names, and the etcd keys of all slots fall into one narrow key range (the text before the
 * first `{{.ID}}` followed by a digit), which one watch covers.
 */
import { fqdn } from "../../dns/message.ts";

/** A pattern piece: literal text, or the slot ID formatted with a zero-padded width. */
type Piece = { text: string } | { width: number; zeroPad: boolean };

/** Why a pattern was refused (the caller adds FILE:LINE). */
export class PatternError extends Error {}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

/** A parsed, validated pattern. */
export class Pattern {
  readonly #pieces: Piece[];
  readonly #matcher: RegExp;

  private constructor(readonly source: string, pieces: Piece[]) {
    this.#pieces = pieces;
    const re = pieces
      .map((p) => ("text" in p ? escapeRegExp(p.text.toLowerCase()) : "(\\d+)"))
      .join("");
    // Names are matched fully qualified, whether or not the pattern ends in a dot.
    this.#matcher = new RegExp(`^${re}${source.endsWith(".") ? "" : "\\."}$`);
  }

  /**
   * Parses `source`. Refuses a pattern without `{{.ID}}`, an unknown action and a format other
   * than `%d` / `%0Nd` / `%Nd`.
   */
  static parse(source: string): Pattern {
    const pieces: Piece[] = [];
    let last = 0;
    let ids = 0;
    for (const m of source.matchAll(ACTION)) {
      if (m.index > last) pieces.push({ text: source.slice(last, m.index) });
      last = m.index + m[0].length;
      pieces.push(parseAction(m[1], m[0]));
      ids++;
    }
    if (last < source.length) pieces.push({ text: source.slice(last) });
    if (ids === 0) {
      throw new PatternError(
        `pattern '${source}' has no {{.ID}}; every node needs its own name, e.g. worker{{.ID}}.example.org.`,
      );
    }
    for (const p of pieces) {
      if ("text" in p && /[{}]/.test(p.text)) {
        throw new PatternError(
          `pattern '${source}' has a stray '{' or '}'; write the slot number as {{.ID}}`,
        );
      }
    }
    return new Pattern(source, pieces);
  }

  /** The name of slot `id`, exactly as the pattern writes it (this is also the etcd key). */
  render(id: number): string {
    let out = "";
    for (const p of this.#pieces) {
      if ("text" in p) out += p.text;
      else out += String(id).padStart(p.width, p.zeroPad ? "0" : " ");
    }
    return out;
  }

  /**
   * The slot that a name (any case, with or without the trailing dot) is the canonical name of,
   * or null. `worker03.tf.local.` is not a name of `worker{{.ID}}.tf.local.`.
   */
  idOf(name: string): number | null {
    const wanted = fqdn(name);
    const m = this.#matcher.exec(wanted);
    if (!m) return null;
    const id = Number(m[1]);
    if (!Number.isSafeInteger(id) || id < 1) return null;
    for (let i = 2; i < m.length; i++) if (Number(m[i]) !== id) return null;
    return fqdn(this.render(id)) === wanted ? id : null;
  }

  /** The text of the pattern before its first `{{.ID}}`: the shared start of every key. */
  get literalPrefix(): string {
    const first = this.#pieces[0];
    return "text" in first ? first.text : "";
  }

  /**
   * The domain the pattern's names live in: what follows the label holding `{{.ID}}`,
   * e.g. `tf.local.` for `worker{{.ID}}.tf.local.`. SRV records and the synthetic SOA sit here.
   */
  get domain(): string {
    const probe = this.render(1);
    const at = this.literalPrefix.length;
    const dot = probe.indexOf(".", at);
    return dot < 0 ? "." : fqdn(probe.slice(dot + 1));
  }

  /** Checks that slots 1..limit render to valid DNS names; returns the problem or null. */
  checkNames(limit: number): string | null {
    for (const id of new Set([1, limit])) {
      const name = this.render(id);
      const problem = dnsNameProblem(fqdn(name));
      if (problem) return `pattern renders slot ${id} as '${name}', ${problem}`;
    }
    return null;
  }
}

function parseAction(body: string, whole: string): Piece {
  if (body === ".ID") return { width: 0, zeroPad: false };
  const m = /^printf\s+"?%(0?)(\d*)d"?\s+\.ID$/.exec(body);
  if (m) {
    const width = m[2] === "" ? 0 : Number(m[2]);
    if (width > 20) throw new PatternError(`pattern action '${whole}': width ${width} is too wide`);
    if (width > 0 && m[1] !== "0") {
      throw new PatternError(
        `pattern action '${whole}': space padding cannot be part of a DNS name; use %0${width}d`,
      );
    }
    return { width, zeroPad: true };
  }
  throw new PatternError(
    `pattern action '${whole}' is not supported; use {{.ID}} or {{printf "%02d" .ID}}`,
  );
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Why `name` (an FQDN) is not a usable host name, or null. */
function dnsNameProblem(name: string): string | null {
  if (name.length > 254) return "which is longer than 253 characters";
  const labels = name.slice(0, -1).split(".");
  for (const label of labels) {
    if (label.length === 0) return "which has an empty label";
    if (label.length > 63) return `whose label '${label}' is longer than 63 characters`;
    if (!/^[a-z0-9_-]+$/i.test(label)) {
      return `whose label '${label}' has characters a host name cannot have`;
    }
  }
  return null;
}
