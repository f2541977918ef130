/**
 * etcd's v2 keys protocol, as far as the discovery service speaks it: request paths, bodies and
 * query flags in; nodes, JSON bodies and v2 error bodies `{errorCode, message, cause, index}`
 * with v2's status codes out.
 */
import { Buffer } from "node:buffer";
import { MEMBER_ID_RE, type StoredKey, TOKEN_RE, type TokenState } from "./store.ts";

/** Request bodies above this get 413 and are not read further. */
export const MAX_BODY_BYTES = 64 * 1024;

/** v2 error codes (etcd's v2error package) and their messages. */
const V2_ERRORS = {
  100: "Key not found",
  102: "Not a file",
  103: "Reached the max number of peers in the cluster",
  105: "Key already exists",
  106: "The prefix of given key is a keyword in etcd",
  200: "Value is Required in POST form",
  203: "The given index in POST form is not a number",
  209: "Invalid field",
  210: "Invalid POST form",
  300: "Raft Internal Error",
  401: "The event in requested index is outdated and cleared",
} as const;

export type V2Code = keyof typeof V2_ERRORS;

/** A v2 node as the keys API returns it. */
export interface V2Node {
  key: string;
  dir?: true;
  value?: string;
  nodes?: V2Node[];
  modifiedIndex: number;
  createdIndex: number;
}

/** What one request asks for, once the path is parsed. */
export type Target =
  | { kind: "token"; token: string }
  | { kind: "config"; token: string }
  | { kind: "size"; token: string }
  | { kind: "member"; token: string; id: string };

export class V2Error extends Error {
  constructor(
    readonly status: number,
    readonly code: V2Code,
    readonly detail: string,
    readonly index = 0,
  ) {
    super(`${code}: ${V2_ERRORS[code]} (${detail})`);
  }
}

/** Parses a request path into a target, or throws a 400. */
export function parseTarget(pathname: string): Target {
  let path = pathname;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    throw new V2Error(400, 209, "the path is not valid URL encoding");
  }
  const parts = path.replace(/\/+$/, "").split("/").slice(1);
  const [token, second, third] = parts;
  const shown = JSON.stringify(path.slice(0, 100));
  if (parts.length === 0 || token === undefined || token === "") {
    throw new V2Error(400, 209, "give a token: /TOKEN, /TOKEN/_config/size or /TOKEN/MEMBERID");
  }
  if (!TOKEN_RE.test(token)) throw new V2Error(400, 209, `${shown}: not a discovery token`);
  if (parts.length === 1) return { kind: "token", token };
  if (second === "_config") {
    if (parts.length === 2) return { kind: "config", token };
    if (parts.length === 3 && third === "size") return { kind: "size", token };
    throw new V2Error(404, 100, path.slice(0, 200));
  }
  if (parts.length === 2 && MEMBER_ID_RE.test(second)) return { kind: "member", token, id: second };
  throw new V2Error(400, 209, `${shown}: expected /TOKEN/MEMBERID with a hex member ID`);
}

/** Reads a request body of at most MAX_BODY_BYTES, or throws a 413 without reading the rest. */
export async function readBody(req: Request): Promise<string> {
  const length = req.headers.get("content-length");
  if (length !== null && Number(length) > MAX_BODY_BYTES) {
    await req.body?.cancel().catch(() => {});
    throw new V2Error(413, 210, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new V2Error(413, 210, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new V2Error(400, 210, "the body is not UTF-8");
  }
}

export function bool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === "" || v === "false" || v === "0") return false;
  if (v === "true" || v === "1") return true;
  throw new V2Error(400, 209, `invalid value for ${name}: '${v.slice(0, 20)}'`);
}

export function leaf(key: string, kv: StoredKey): V2Node {
  return { key, value: kv.value, modifiedIndex: kv.modRevision, createdIndex: kv.createRevision };
}

/** The node a GET returns for `target`, or throws 404. */
export function getNode(state: TokenState, target: Target, recursive: boolean): V2Node {
  const t = state.token;
  const size = state.sizeKey;
  if (!size) throw new V2Error(404, 100, `/${t}`, state.revision);
  const sizeNode = leaf(`/${t}/_config/size`, size);
  const config = (withChildren: boolean): V2Node => ({
    key: `/${t}/_config`,
    dir: true,
    ...(withChildren ? { nodes: [sizeNode] } : {}),
    modifiedIndex: size.modRevision,
    createdIndex: size.createRevision,
  });
  switch (target.kind) {
    case "size":
      return sizeNode;
    case "config":
      return config(true);
    case "member": {
      const m = state.members.find((x) => x.id === target.id);
      if (!m) throw new V2Error(404, 100, `/${t}/${target.id}`, state.revision);
      return leaf(`/${t}/${m.id}`, m);
    }
    case "token": {
      // v2 lists a directory in no particular order; key order is a valid one (sorted=true).
      const nodes = [config(recursive), ...state.members.map((m) => leaf(`/${t}/${m.id}`, m))];
      nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return {
        key: `/${t}`,
        dir: true,
        nodes,
        modifiedIndex: size.modRevision,
        createdIndex: size.createRevision,
      };
    }
  }
}

const JSON_TYPE = "application/json";

export function json(status: number, body: unknown, index: number | TokenState): Response {
  const state = typeof index === "number" ? null : index;
  const headers: Record<string, string> = {
    "content-type": JSON_TYPE,
    "x-etcd-index": String(state ? state.revision : index),
  };
  if (state) headers["x-etcd-cluster-id"] = state.clusterId;
  return new Response(JSON.stringify(body) + "\n", { status, headers });
}

export function v2Error(status: number, code: V2Code, cause: string, index = 0): Response {
  return new Response(
    JSON.stringify({ errorCode: code, message: V2_ERRORS[code], cause, index }) + "\n",
    { status, headers: { "content-type": JSON_TYPE, "x-etcd-index": String(index) } },
  );
}
