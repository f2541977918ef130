/** etcdhosts metrics (`etcdns_etcdhosts_*`), labelled by the etcd key. */
import { metrics } from "../../metrics/registry.ts";

/** Entries served now (etcd plus inline). */
export const entriesGauge = metrics.gauge(
  "etcdns_etcdhosts_entries",
  "The number of (address, name) entries etcdhosts serves, from etcd and inline.",
  ["key"],
);

/** The mod revision of the value served (0 when none). */
export const revisionGauge = metrics.gauge(
  "etcdns_etcdhosts_revision",
  "The etcd mod revision of the hosts file being served.",
  ["key"],
);

/** Bad lines skipped in the value served. */
export const badLinesGauge = metrics.gauge(
  "etcdns_etcdhosts_bad_lines",
  "The number of unusable lines skipped in the hosts file being served.",
  ["key"],
);

/** Successful loads of a new value. */
export const reloadsCounter = metrics.counter(
  "etcdns_etcdhosts_reloads_total",
  "The number of times a new hosts file from etcd was loaded.",
  ["key"],
);

/** The Unix time of the last load. */
export const reloadTimestamp = metrics.gauge(
  "etcdns_etcdhosts_reload_timestamp_seconds",
  "The time of the last load of the hosts file from etcd.",
  ["key"],
);

/**
 * Problems that kept (some of) the last good data: `read` (etcd unreachable or refused),
 * `deleted` (the key was deleted), `bad_lines` (lines skipped), `rejected` (a value with no
 * usable line at all was ignored).
 */
export const errorsCounter = metrics.counter(
  "etcdns_etcdhosts_errors_total",
  "Problems reading or parsing the hosts file in etcd; the last good data is kept.",
  ["key", "reason"],
);
