/** Shared helpers for the Corefile tests. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CorefileError,
  type Directive,
  keyString,
  type ServerBlock,
} from "../../src/corefile/types.ts";

/** Runs `fn` with a temporary directory holding `files` (relative path -> content), then removes it. */
export function withTempDir<T>(files: Record<string, string>, fn: (dir: string) => T): T {
  const dir = Deno.makeTempDirSync({ prefix: "etcdns-corefile-" });
  try {
    for (const [rel, content] of Object.entries(files)) {
      const path = join(dir, rel);
      Deno.mkdirSync(join(path, ".."), { recursive: true });
      Deno.writeTextFileSync(path, content);
    }
    return fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Asserts that `fn` throws a CorefileError whose message starts with `at` and contains `text`. */
export function assertCorefileError(fn: () => unknown, at: string, text = ""): CorefileError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CorefileError, `expected a CorefileError, got ${caught}`);
  assert.ok(
    caught.message.startsWith(`${at} - `),
    `expected the message to start with '${at} - ': ${caught.message}`,
  );
  assert.ok(caught.message.includes(text), `expected '${text}' in: ${caught.message}`);
  return caught;
}

/** How many tokens a directive spans, counted as CoreDNS's parse tests count them. */
export function tokenCount(d: Directive): number {
  return 1 + d.args.length + (d.block ? 2 + d.block.reduce((n, c) => n + tokenCount(c), 0) : 0);
}

/** Token counts per directive name in a block, as CoreDNS's ServerBlock.Tokens holds them. */
export function tokenCounts(block: ServerBlock): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of block.directives) counts[d.name] = (counts[d.name] ?? 0) + tokenCount(d);
  return counts;
}

/** The printed keys of a block. */
export function keysOf(block: ServerBlock): string[] {
  return block.keys.map(keyString);
}
