/**
 * The etcd connection flags the tools share (`etcdns slots`, `etcdns discovery`):
 * `--endpoint URL` (repeatable), `--user U --password P`, `--cert F --cert-key F --ca F`,
 * `--timeout D`. They apply on top of settings read from a Corefile block.
 */
import { type EtcdOptions, normaliseEndpoint } from "../etcd/options.ts";

/** node:util parseArgs option specs for the etcd flags. */
export const ETCD_FLAG_OPTIONS = {
  endpoint: { type: "string", multiple: true },
  user: { type: "string" },
  password: { type: "string" },
  cert: { type: "string" },
  "cert-key": { type: "string" },
  ca: { type: "string" },
  timeout: { type: "string" },
} as const;

/** The usage lines for the etcd flags. */
export const ETCD_FLAG_USAGE =
  `  --endpoint URL            etcd endpoint (repeatable; default http://localhost:2379)
  --user U --password P     etcd credentials
  --cert F --cert-key F --ca F    etcd client TLS
  --timeout D               per-call timeout (default 5s)`;

/** The parsed etcd flag values. */
export interface EtcdFlagValues {
  endpoint?: string[];
  user?: string;
  password?: string;
  cert?: string;
  "cert-key"?: string;
  ca?: string;
  timeout?: string;
}

/**
 * Applies the etcd flags in `values` to `etcd`. A bad value throws `usage(message)`, so each
 * command reports it as its own usage error.
 */
export function applyEtcdFlags(
  etcd: EtcdOptions,
  values: EtcdFlagValues,
  usage: (message: string) => Error,
): void {
  if (values.endpoint !== undefined) {
    etcd.endpoints = values.endpoint.map((e) => {
      const n = normaliseEndpoint(e);
      if (typeof n !== "string") throw usage(n.error);
      return n;
    });
  }
  if (values.user !== undefined) {
    etcd.username = values.user;
    etcd.password = values.password ?? "";
  }
  if (values.cert !== undefined || values["cert-key"] !== undefined || values.ca !== undefined) {
    etcd.tls = { cert: values.cert, key: values["cert-key"], ca: values.ca };
  }
  if (values.timeout !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(values.timeout);
    if (!m) throw usage(`--timeout must look like 500ms or 5s, got '${values.timeout}'`);
    etcd.timeoutMs = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000);
  }
}
