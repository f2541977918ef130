/**
 * How discovery tokens live in etcd (v3 API), shared by the discovery plugin and
 * `etcdns discovery`.
 *
 * The layout is etcd's own v3 discovery layout (server/etcdserver/api/v3discovery in etcd 3.6+),
 * so one token serves both `etcd --discovery URL` (3.4/3.5, through the plugin) and
 * `etcd --discovery-token T --discovery-endpoints E` (3.6+, straight to etcd):
 *
 *   PREFIX/TOKEN/_config/size      the cluster size, a decimal number (under the token's lease)
 *   PREFIX/TOKEN/members/MEMBERID  one registration: etcd's "name=peerURL,..." string
 *
 * PREFIX defaults to `/_etcd/registry`, where etcd 3.6+ looks. Registrations made through the
 * plugin are attached to the size key's lease, so the whole token expires together.
 */
import type { EtcdClient } from "../../etcd/client.ts";
import type { KeyValue } from "../../etcd/wire.ts";
import { prefixEnd } from "../../etcd/watch.ts";

/** Where etcd 3.6+ v3 discovery keeps tokens (fixed in etcd; `discoveryPrefix`). */
export const V3_DISCOVERY_PREFIX = "/_etcd/registry";

/** A token: what `etcdns discovery new` generates (32 hex digits) or any similar name. */
export const TOKEN_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** An etcd member ID as etcd writes it into its registration key (types.ID.String(): hex). */
export const MEMBER_ID_RE = /^[0-9a-f]{1,16}$/;

/** The largest cluster size a token may ask for. */
export const MAX_SIZE = 1000;

/** The largest registration value we accept (etcd's is "name=url[,url...]", well under this). */
export const MAX_VALUE_BYTES = 4096;

/** One key as read from etcd. */
export interface StoredKey {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** Lease ID as a decimal string, "0" for none. */
  lease: string;
}

/** A token as read at one revision. */
export interface TokenState {
  token: string;
  /** The size key, or null when the token does not exist. */
  sizeKey: StoredKey | null;
  /** The size, or null when the size key is missing or not a positive number. */
  size: number | null;
  /** Registrations in creation order (etcd's own order for "who came first"). */
  members: (StoredKey & { id: string })[];
  /** The store revision of the read. */
  revision: number;
  /** The backing etcd's cluster ID, hex. */
  clusterId: string;
}

/** Checks a registration value: etcd's `name=peerURL[,name=peerURL...]`. Returns a problem. */
export function checkMemberValue(value: string): string | null {
  if (value === "") return "the value is empty; etcd registers 'NAME=PEER_URL'";
  if (new TextEncoder().encode(value).length > MAX_VALUE_BYTES) {
    return `the value is longer than ${MAX_VALUE_BYTES} bytes`;
  }
  for (const pair of value.split(",")) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq);
    const url = pair.slice(eq + 1);
    if (eq <= 0 || /[\s=]/.test(name) || [...pair].some((ch) => ch <= " " || ch === "\x7f")) {
      return `'${pair.slice(0, 80)}' is not NAME=PEER_URL`;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `'${url.slice(0, 80)}' is not a URL`;
    }
    if (!["http:", "https:", "unix:", "unixs:"].includes(parsed.protocol) || !parsed.host) {
      return `'${url.slice(0, 80)}' is not an http(s)://HOST:PORT peer URL`;
    }
  }
  return null;
}

/** Key names for one prefix. */
export class TokenLayout {
  readonly prefix: string;

  constructor(prefix: string = V3_DISCOVERY_PREFIX) {
    this.prefix = prefix.replace(/\/+$/, "");
  }

  /** `PREFIX/TOKEN/` */
  tokenPrefix(token: string): string {
    return `${this.prefix}/${token}/`;
  }

  /** `PREFIX/TOKEN/_config/size` */
  sizeKey(token: string): string {
    return `${this.tokenPrefix(token)}_config/size`;
  }

  /** `PREFIX/TOKEN/members/` */
  membersPrefix(token: string): string {
    return `${this.tokenPrefix(token)}members/`;
  }

  /** `PREFIX/TOKEN/members/ID` */
  memberKey(token: string, id: string): string {
    return `${this.membersPrefix(token)}${id}`;
  }

  /**
   * The v2 key (`/TOKEN/_config/size`, `/TOKEN/ID`) of a stored key of `token`, or null for a
   * key the v2 view does not show.
   */
  v2Key(token: string, key: string): string | null {
    if (key === this.sizeKey(token)) return `/${token}/_config/size`;
    const members = this.membersPrefix(token);
    if (key.startsWith(members)) {
      const id = key.slice(members.length);
      if (MEMBER_ID_RE.test(id)) return `/${token}/${id}`;
    }
    return null;
  }
}

/** Decodes one etcd key/value. */
export function stored(kv: KeyValue): StoredKey {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: kv.lease,
  };
}

/** Parses a size value: a positive whole number up to MAX_SIZE, else null. */
export function parseSize(value: string): number | null {
  if (!/^\d{1,6}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 && n <= MAX_SIZE ? n : null;
}

/** Reads a token (size key and registrations) in one range request. */
export async function readToken(
  client: EtcdClient,
  layout: TokenLayout,
  token: string,
): Promise<TokenState> {
  const start = layout.tokenPrefix(token);
  const res = await client.range({
    key: start,
    range_end: prefixEnd(start),
    // A token holds its size key and at most a few registrations; this bounds a polluted one.
    limit: "10000",
  });
  const state: TokenState = {
    token,
    sizeKey: null,
    size: null,
    members: [],
    revision: Number(res.header.revision),
    clusterId: BigInt(res.header.cluster_id).toString(16),
  };
  const membersPrefix = layout.membersPrefix(token);
  for (const kv of res.kvs) {
    const k = stored(kv);
    if (k.key === layout.sizeKey(token)) {
      state.sizeKey = k;
      state.size = parseSize(k.value.trim());
    } else if (k.key.startsWith(membersPrefix)) {
      const id = k.key.slice(membersPrefix.length);
      if (MEMBER_ID_RE.test(id)) state.members.push({ ...k, id });
    }
  }
  state.members.sort((a, b) => a.createRevision - b.createRevision);
  return state;
}

/** The outcome of a registration. */
export type RegisterResult =
  | { result: "created"; revision: number; key: StoredKey }
  | { result: "no-token"; state: TokenState }
  | { result: "bad-size"; state: TokenState }
  | { result: "exists"; state: TokenState; existing: StoredKey }
  | { result: "full"; state: TokenState };

/**
 * Registers member `id` under `token` with `value`, never overwriting and never past the size:
 * one transaction that puts the key only if it was never created (`create_revision == 0`),
 * the size key is unchanged, and no registration was made since our read (a range compare on
 * the members' mod revisions). A lost race re-reads and tries again (bounded).
 */
export async function registerMember(
  client: EtcdClient,
  layout: TokenLayout,
  token: string,
  id: string,
  value: string,
): Promise<RegisterResult> {
  const key = layout.memberKey(token, id);
  for (let attempt = 0; attempt < 20; attempt++) {
    const state = await readToken(client, layout, token);
    if (!state.sizeKey) return { result: "no-token", state };
    if (state.size === null) return { result: "bad-size", state };
    const existing = state.members.find((m) => m.id === id);
    if (existing) return { result: "exists", state, existing };
    if (state.members.length >= state.size) return { result: "full", state };
    const members = layout.membersPrefix(token);
    const res = await client.txn({
      compare: [
        {
          key: state.sizeKey.key,
          target: "MOD",
          result: "EQUAL",
          mod_revision: String(state.sizeKey.modRevision),
        },
        { key: key, target: "CREATE", result: "EQUAL", create_revision: "0" },
        {
          key: members,
          range_end: prefixEnd(members),
          target: "MOD",
          result: "LESS",
          mod_revision: String(state.revision + 1),
        },
      ],
      success: [{
        request_put: {
          key: key,
          value: value,
          lease: state.sizeKey.lease,
        },
      }],
      failure: [],
    });
    if (res.succeeded) {
      const revision = Number(res.header.revision);
      return {
        result: "created",
        revision,
        key: {
          key,
          value,
          createRevision: revision,
          modRevision: revision,
          lease: state.sizeKey.lease,
        },
      };
    }
  }
  throw new Error(`registration on token ${token} kept losing races; try again`);
}

/** Creates a new token of `size` under a lease of `ttlSeconds` (0: no lease). */
export async function createToken(
  client: EtcdClient,
  layouts: readonly TokenLayout[],
  token: string,
  size: number,
  ttlSeconds: number,
): Promise<{ lease: string; revision: number }> {
  let lease = "0";
  if (ttlSeconds > 0) {
    lease = (await client.leaseGrant(ttlSeconds)).ID;
  }
  const keys = [...new Set(layouts.map((l) => l.sizeKey(token)))];
  const res = await client.txn({
    compare: keys.map((k) => ({
      key: k,
      target: "CREATE" as const,
      result: "EQUAL" as const,
      create_revision: "0",
    })),
    success: keys.map((k) => ({
      request_put: { key: k, value: String(size), lease },
    })),
    failure: [],
  });
  if (!res.succeeded) {
    if (lease !== "0") await client.leaseRevoke(lease).catch(() => {});
    throw new Error(`token ${token} already exists`);
  }
  return { lease, revision: Number(res.header.revision) };
}

/** Deletes a token: revokes its lease and removes every key under it. Returns keys deleted. */
export async function deleteToken(
  client: EtcdClient,
  layouts: readonly TokenLayout[],
  token: string,
): Promise<number> {
  let deleted = 0;
  for (const layout of layouts) {
    const state = await readToken(client, layout, token);
    const lease = state.sizeKey?.lease ?? "0";
    const start = layout.tokenPrefix(token);
    const res = await client.deleteRange({
      key: start,
      range_end: prefixEnd(start),
    });
    deleted += Number(res.deleted);
    if (lease !== "0") await client.leaseRevoke(lease).catch(() => {});
  }
  return deleted;
}

/** A new random token: 32 hex digits (128 bits), as discovery.etcd.io hands out. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
