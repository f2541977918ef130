/**
 * etcd's v3 messages as its JSON gateway speaks them, and their one codec.
 *
 * Field names are the proto names (snake_case, `ID` and `TTL` as etcd spells them), int64
 * fields travel as decimal strings (a lease ID does not fit a JS number), and byte fields
 * (`key`, `range_end`, `value`, a lease's `keys`) as base64. The gateway leaves out every
 * field that holds its zero value, so the decoders here fill them in: callers always see
 * `kvs`, `more`, `succeeded`, `events`, `TTL` and the rest.
 */
import { Buffer } from "node:buffer";

/** Bytes in a request: a Uint8Array, or a string sent as UTF-8. */
export type Bytes = string | Uint8Array;

/** An int64 in a request: a number, or a decimal string for values beyond 2^53. */
export type Int64 = number | string;

/** What etcd says about the store with every response. */
export interface ResponseHeader {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}

/** One stored key. */
export interface KeyValue {
  key: Buffer;
  /** Empty for a deleted key in a watch event. */
  value: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
  /** The lease ID, "0" when none. */
  lease: string;
}

/** `/v3/kv/range`: one key, or the keys in [key, range_end). */
export interface RangeRequest {
  key: Bytes;
  range_end?: Bytes;
  limit?: Int64;
  revision?: Int64;
  keys_only?: boolean;
  count_only?: boolean;
  /** Answered by the member asked, from its own copy, without a quorum round. */
  serializable?: boolean;
}

/** The keys a range found. */
export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: string;
}

/** `/v3/kv/put`. */
export interface PutRequest {
  key: Bytes;
  value: Bytes;
  lease?: Int64;
}

/** `/v3/kv/deleterange`. */
export interface DeleteRangeRequest {
  key: Bytes;
  range_end?: Bytes;
}

/** How many keys a delete removed. */
export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: string;
}

/** One condition of a transaction. */
export interface Compare {
  key: Bytes;
  /** With a range end, the compare must hold for every key in [key, range_end). */
  range_end?: Bytes;
  target: "VERSION" | "CREATE" | "MOD" | "VALUE" | "LEASE";
  result: "EQUAL" | "GREATER" | "LESS" | "NOT_EQUAL";
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Bytes;
  lease?: Int64;
}

/** One operation of a transaction. */
export type RequestOp =
  | { request_range: RangeRequest }
  | { request_put: PutRequest }
  | { request_delete_range: DeleteRangeRequest };

/** The result of one operation, under the name of its kind. */
export interface ResponseOp {
  response_range?: RangeResponse;
  response_put?: { header: ResponseHeader };
  response_delete_range?: DeleteRangeResponse;
}

/** `/v3/kv/txn`: if every compare holds, `success`, else `failure`. */
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** Which branch ran, and its results in order. */
export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

/** A lease as grant, keepalive and time-to-live report it; TTL "0" means it is gone. */
export interface LeaseResponse {
  header: ResponseHeader;
  ID: string;
  TTL: string;
}

/** `/v3/lease/timetolive`: a lease's TTL left, granted TTL and (when asked) its keys. */
export interface LeaseTimeToLiveResponse extends LeaseResponse {
  grantedTTL: string;
  keys: Buffer[];
}

/** What a watch follows. */
export interface WatchCreateRequest {
  key: Bytes;
  range_end?: Bytes;
  start_revision?: Int64;
  progress_notify?: boolean;
  /** Send each event's previous key/value too. */
  prev_kv?: boolean;
}

/** One change seen by a watch. */
export interface WatchEvent {
  type: "PUT" | "DELETE";
  kv: KeyValue;
  /** The key before this change, when the watch asked for it and there was one. */
  prev_kv?: KeyValue;
}

/** One message of a watch stream: created, cancelled, events or progress. */
export interface WatchResponse {
  header: ResponseHeader;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  events: WatchEvent[];
}

/** A decoded JSON object from etcd, not yet trusted. */
type Json = Record<string, unknown>;

const BYTE_FIELDS = new Set(["key", "range_end", "value"]);

/** The request body for `req`: byte fields as base64, everything else as given. */
export function encodeRequest(req: object): string {
  return JSON.stringify(req, function (this: Record<string, unknown>, name: string, v: unknown) {
    if (!BYTE_FIELDS.has(name)) return v;
    // The holder's own value: `v` has been through toJSON already (a Buffer's is an object).
    const raw = this[name];
    if (typeof raw === "string") return Buffer.from(raw, "utf8").toString("base64");
    if (raw instanceof Uint8Array) {
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64");
    }
    return v;
  });
}

function object(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function int64(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "0";
}

function bytes(v: unknown): Buffer {
  return typeof v === "string" ? Buffer.from(v, "base64") : Buffer.alloc(0);
}

function text(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** A response header, its absent fields as "0". */
export function decodeHeader(v: unknown): ResponseHeader {
  const h = object(v);
  return {
    cluster_id: int64(h.cluster_id),
    member_id: int64(h.member_id),
    revision: int64(h.revision),
    raft_term: int64(h.raft_term),
  };
}

/** A stored key, its bytes decoded. */
export function decodeKeyValue(v: unknown): KeyValue {
  const kv = object(v);
  return {
    key: bytes(kv.key),
    value: bytes(kv.value),
    create_revision: int64(kv.create_revision),
    mod_revision: int64(kv.mod_revision),
    version: int64(kv.version),
    lease: int64(kv.lease),
  };
}

/** A range response. */
export function decodeRange(v: unknown): RangeResponse {
  const r = object(v);
  return {
    header: decodeHeader(r.header),
    kvs: list(r.kvs).map(decodeKeyValue),
    more: r.more === true,
    count: int64(r.count),
  };
}

/** A delete response. */
export function decodeDeleteRange(v: unknown): DeleteRangeResponse {
  const r = object(v);
  return { header: decodeHeader(r.header), deleted: int64(r.deleted) };
}

/** A transaction response, with each operation's result decoded. */
export function decodeTxn(v: unknown): TxnResponse {
  const r = object(v);
  return {
    header: decodeHeader(r.header),
    succeeded: r.succeeded === true,
    responses: list(r.responses).map((op) => {
      const o = object(op);
      const out: ResponseOp = {};
      if (o.response_range !== undefined) out.response_range = decodeRange(o.response_range);
      if (o.response_put !== undefined) {
        out.response_put = { header: decodeHeader(object(o.response_put).header) };
      }
      if (o.response_delete_range !== undefined) {
        out.response_delete_range = decodeDeleteRange(o.response_delete_range);
      }
      return out;
    }),
  };
}

/** A lease grant, keepalive or revoke response. */
export function decodeLease(v: unknown): LeaseResponse {
  const r = object(v);
  return { header: decodeHeader(r.header), ID: int64(r.ID), TTL: int64(r.TTL) };
}

/** A lease time-to-live response. */
export function decodeLeaseTimeToLive(v: unknown): LeaseTimeToLiveResponse {
  const r = object(v);
  return { ...decodeLease(r), grantedTTL: int64(r.grantedTTL), keys: list(r.keys).map(bytes) };
}

/** One watch message. */
export function decodeWatch(v: unknown): WatchResponse {
  const r = object(v);
  return {
    header: decodeHeader(r.header),
    created: r.created === true,
    canceled: r.canceled === true,
    compact_revision: int64(r.compact_revision),
    cancel_reason: text(r.cancel_reason),
    events: list(r.events).map((e) => {
      const ev = object(e);
      const out: WatchEvent = {
        type: ev.type === "DELETE" ? "DELETE" : "PUT",
        kv: decodeKeyValue(ev.kv),
      };
      if (ev.prev_kv !== undefined) out.prev_kv = decodeKeyValue(ev.prev_kv);
      return out;
    }),
  };
}
