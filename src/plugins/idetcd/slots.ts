/**
 * How idetcd slots are stored in etcd, shared by the claimer, the watched view and
 * `etcdns slots`: the key of each slot, the JSON value, and reading all slots.
 *
 * The layout is the original plugin's, so that nodes running it and etcdns can share a cluster
 * during a migration: the key is the rendered name (`worker3.tf.local.`), or `PREFIX/name` when
 * a prefix is set, and the value is JSON `{"ipv4","ipv6","port"}`. We add `node`, `hostname`,
 * `claimed_at` and `instance`, which the original ignores.
 */
import { Buffer } from "node:buffer";
import type { EtcdClient } from "../../etcd/client.ts";
import { fqdn } from "../../dns/message.ts";
import { parseIp } from "../../hostsfile/ip.ts";
import type { Pattern } from "./pattern.ts";

/** The JSON value of a slot. Every field is optional, as in the original (omitempty). */
export interface SlotValue {
  ipv4?: string;
  ipv6?: string;
  /** The DNS port of the claiming server, as a string (the original's format). */
  port?: string;
  /** The claiming node's identity; a restart takes back the slot carrying its own. */
  node?: string;
  hostname?: string;
  /** ISO 8601 time of the claim. */
  claimed_at?: string;
  /** Random per process: tells a restarted node from a live twin with the same node id. */
  instance?: string;
}

/** One slot key as read from etcd. */
export interface SlotRecord {
  id: number;
  key: string;
  /** The slot's DNS name: lowercased, fully qualified. */
  name: string;
  /** The decoded value, or null when it is unusable (see `error`). */
  value: SlotValue | null;
  /** Why the value is unusable, for the log. */
  error?: string;
  /** The lease ID as a decimal string ("0" when none). */
  lease: string;
  modRevision: number;
  createRevision: number;
}

/** Maps slot IDs to etcd keys and back, for one pattern and prefix. */
export class SlotLayout {
  readonly #keyPrefix: string;

  constructor(readonly pattern: Pattern, readonly prefix: string) {
    this.#keyPrefix = prefix === "" ? "" : prefix.endsWith("/") ? prefix : `${prefix}/`;
  }

  /** The etcd key of slot `id`. */
  keyOf(id: number): string {
    return this.#keyPrefix + this.pattern.render(id);
  }

  /** The DNS name of slot `id` (lowercased FQDN). */
  nameOf(id: number): string {
    return fqdn(this.pattern.render(id));
  }

  /** The slot a key belongs to, or null when the key is not a slot of this pattern. */
  idOfKey(key: string): number | null {
    if (!key.startsWith(this.#keyPrefix)) return null;
    const rendered = key.slice(this.#keyPrefix.length);
    const id = this.pattern.idOf(rendered);
    // The key must be the rendering itself (same case, same trailing dot), not just match it.
    return id !== null && this.pattern.render(id) === rendered ? id : null;
  }

  /**
   * The key range holding every slot: the text before `{{.ID}}` followed by a digit, i.e.
   * [`P0`, `P:`) since ':' follows '9'. One watch and one paginated read cover it.
   */
  get range(): { start: string; end: string } {
    const p = this.#keyPrefix + this.pattern.literalPrefix;
    return { start: `${p}0`, end: `${p}:` };
  }

  /** Decodes one key/value into a record, or null when the key is not one of our slots. */
  record(
    key: string,
    value: Uint8Array,
    lease: string,
    modRevision: number,
    createRevision: number,
  ): SlotRecord | null {
    const id = this.idOfKey(key);
    if (id === null) return null;
    const parsed = parseSlotValue(value);
    return {
      id,
      key,
      name: this.nameOf(id),
      value: "error" in parsed ? null : parsed.value,
      error: "error" in parsed ? parsed.error : undefined,
      lease,
      modRevision,
      createRevision,
    };
  }
}

/** Encodes a slot value as JSON, leaving out empty fields as the original does. */
export function encodeSlotValue(v: SlotValue): string {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (val !== undefined && val !== "") out[k] = val;
  return JSON.stringify(out);
}

/** Decodes and checks a slot value. A bad value never throws: it comes back as `{error}`. */
export function parseSlotValue(raw: Uint8Array | string): { value: SlotValue } | { error: string } {
  const text = typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `value is not JSON: ${JSON.stringify(text.slice(0, 80))}` };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { error: `value is not a JSON object: ${JSON.stringify(text.slice(0, 80))}` };
  }
  const o = json as Record<string, unknown>;
  const value: SlotValue = {};
  for (const field of ["ipv4", "ipv6", "node", "hostname", "claimed_at", "instance"] as const) {
    const v = o[field];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string") return { error: `${field} is not a string: ${JSON.stringify(v)}` };
    value[field] = v;
  }
  if (o.port !== undefined && o.port !== null && o.port !== "") {
    if (typeof o.port !== "string" && typeof o.port !== "number") {
      return { error: `port is not a string or number: ${JSON.stringify(o.port)}` };
    }
    value.port = String(o.port);
  }
  if (value.ipv4 !== undefined) {
    const ip = parseIp(value.ipv4);
    if (!ip || ip.family !== 4 || value.ipv4.includes(":")) {
      return { error: `ipv4 '${value.ipv4}' is not an IPv4 address` };
    }
  }
  if (value.ipv6 !== undefined) {
    const ip = parseIp(value.ipv6);
    if (!ip || !value.ipv6.includes(":") || ip.family !== 6) {
      return { error: `ipv6 '${value.ipv6}' is not an IPv6 address` };
    }
    value.ipv6 = ip.text;
  }
  return { value };
}

/** How many keys one range request returns at most. */
const PAGE = 500;

/**
 * Reads every slot of `layout` at one revision. It uses range requests over the slots' key
 * range, paginated and pinned to the first page's revision, rather than one get per slot in
 * a transaction, so it never runs into etcd's limit of 128 operations per transaction
 * (`--max-txn-ops`), whatever the limit.
 */
export async function readSlots(
  client: EtcdClient,
  layout: SlotLayout,
): Promise<{ records: SlotRecord[]; revision: number }> {
  const { start, end } = layout.range;
  const records: SlotRecord[] = [];
  let from = Buffer.from(start);
  let revision = 0;
  for (;;) {
    const res = await client.range({
      key: from,
      range_end: Buffer.from(end),
      limit: String(PAGE),
      revision: revision === 0 ? undefined : String(revision),
    });
    if (revision === 0) revision = Number(res.header.revision);
    for (const kv of res.kvs) {
      const r = layout.record(
        kv.key.toString(),
        kv.value,
        kv.lease,
        Number(kv.mod_revision),
        Number(kv.create_revision),
      );
      if (r) records.push(r);
    }
    if (!res.more || res.kvs.length === 0) break;
    // Continue just after the last key of this page.
    from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
  }
  records.sort((a, b) => a.id - b.id);
  return { records, revision };
}

/**
 * Claims the free slot `key`: one transaction, `create_revision(key) == 0` → put `value` under
 * `lease`, so two nodes can never both win it. Resolves to the revision of the claim, or null
 * when another node was faster.
 */
export async function takeFreeSlot(
  client: EtcdClient,
  key: string,
  value: Uint8Array,
  lease: string,
): Promise<number | null> {
  const res = await client.txn({
    compare: [{ key, target: "CREATE", result: "EQUAL", create_revision: "0" }],
    success: [{ request_put: { key, value, lease } }],
    failure: [],
  });
  return res.succeeded ? Number(res.header.revision) : null;
}

/**
 * Takes back our own slot `r` (its value carries our node id) by re-attaching it to `lease`
 * with a new `value`, if it is unchanged since read. Resolves to the revision, or null when it
 * changed meanwhile.
 */
export async function reattachSlot(
  client: EtcdClient,
  r: SlotRecord,
  value: Uint8Array,
  lease: string,
): Promise<number | null> {
  const res = await client.txn({
    compare: [{ key: r.key, target: "MOD", result: "EQUAL", mod_revision: String(r.modRevision) }],
    success: [{ request_put: { key: r.key, value, lease } }],
    failure: [],
  });
  return res.succeeded ? Number(res.header.revision) : null;
}
