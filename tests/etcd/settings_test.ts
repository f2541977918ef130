/**
 * One etcd settings parser for every source: the same settings given through a Corefile
 * block, the YAML file, and the flags of `hosts`, `slots` and `discovery` give the same
 * EtcdOptions, and the same mistakes give the same message, prefixed by where they were made.
 */
import assert from "node:assert/strict";
import { parseCorefile } from "../../src/corefile/mod.ts";
import { defaultEtcdOptions, type EtcdOptions, parseEtcdProperty } from "../../src/etcd/options.ts";
import { parseYamlSettings } from "../../src/cli/config.ts";
import { hostsSettings } from "../../src/cli/hosts.ts";
import { slotsSettings } from "../../src/cli/slots.ts";
import { discoverySettings } from "../../src/cli/discovery.ts";

const WANT: EtcdOptions = {
  endpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
  username: "root",
  password: "secret",
  tls: { cert: "/tls/c.pem", key: "/tls/k.pem", ca: "/tls/ca.pem" },
  timeoutMs: 1500,
};

/** The etcd block properties of a Corefile, as every plugin reads them. */
function fromCorefile(body: string): EtcdOptions {
  const { blocks } = parseCorefile(`. {\n  etcdhosts {\n${body}\n  }\n}\n`, { file: "Corefile" });
  const opts = defaultEtcdOptions();
  for (const d of blocks[0].directives[0].block ?? []) parseEtcdProperty(d, "etcdhosts", opts);
  return opts;
}

/** The settings each command reads from its flags, with no settings file around. */
async function withoutHomeFiles<T>(fn: () => T): Promise<T> {
  const home = await Deno.makeTempDir();
  const old = Deno.env.get("HOME");
  Deno.env.set("HOME", home);
  try {
    return fn();
  } finally {
    if (old === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", old);
    await Deno.remove(home, { recursive: true });
  }
}

const COMMANDS: [string, (flags: string[]) => EtcdOptions][] = [
  ["hosts", (flags) => hostsSettings([...flags, "dump"]).etcd],
  ["slots", (flags) => slotsSettings(["list", "--pattern", "w{{.ID}}.x.", ...flags]).etcd],
  ["discovery", (flags) => discoverySettings(["show", "tok1", ...flags]).etcd],
];

const FLAGS = [
  "--endpoint",
  "https://10.0.0.1:2379,https://10.0.0.2:2379",
  "--user",
  "root",
  "--password",
  "secret",
  "--cert",
  "/tls/c.pem",
  "--cert-key",
  "/tls/k.pem",
  "--ca",
  "/tls/ca.pem",
  "--timeout",
  "1500ms",
];

Deno.test("etcd settings: the Corefile, YAML and every command's flags give the same options", async () => {
  assert.deepEqual(
    fromCorefile(
      "endpoint https://10.0.0.1:2379,https://10.0.0.2:2379\ncredentials root secret\n" +
        "tls /tls/c.pem /tls/k.pem /tls/ca.pem\ntimeout 1500ms",
    ),
    WANT,
  );
  assert.deepEqual(
    fromCorefile(
      "endpoint https://10.0.0.1:2379 https://10.0.0.2:2379\ncredentials root secret\n" +
        "tls /tls/c.pem /tls/k.pem /tls/ca.pem\ntimeout 1.5s",
    ),
    WANT,
  );
  const yaml = "etcd:\n  endpoints:\n    - https://10.0.0.1:2379\n    - https://10.0.0.2:2379\n" +
    "  username: root\n  password: secret\n  cert: /tls/c.pem\n  key: /tls/k.pem\n" +
    "  ca: /tls/ca.pem\n  timeout: 1500ms\n";
  assert.deepEqual(parseYamlSettings(yaml, "s.yaml").etcd, WANT);
  // dnsctl writes the endpoints as one comma-separated string.
  const dnsctl = yaml.replace(
    "\n    - https://10.0.0.1:2379\n    - https://10.0.0.2:2379",
    " https://10.0.0.1:2379, https://10.0.0.2:2379",
  );
  assert.deepEqual(parseYamlSettings(dnsctl, "s.yaml").etcd, WANT);
  await withoutHomeFiles(() => {
    for (const [name, settings] of COMMANDS) {
      assert.deepEqual(settings(FLAGS), WANT, name);
      // Repeated --endpoint, spaces, single-dash and --flag=value spellings mean the same.
      const spelled = [
        "-endpoint",
        "https://10.0.0.1:2379",
        "--endpoint=https://10.0.0.2:2379",
        ...FLAGS.slice(2),
      ];
      assert.deepEqual(settings(spelled), WANT, `${name}, spelled differently`);
      const spaced = [
        "--endpoint",
        "https://10.0.0.1:2379 https://10.0.0.2:2379",
        ...FLAGS.slice(2),
      ];
      assert.deepEqual(settings(spaced), WANT, `${name}, space-separated`);
      assert.deepEqual(settings([]), defaultEtcdOptions(), `${name}, defaults`);
    }
  });
});

Deno.test("etcd settings: the same mistakes give the same message in every source", async () => {
  const cases: [string[], string, string, string][] = [
    // flags, Corefile body, YAML etcd body, the message
    [
      ["--password", "secret"],
      "",
      "  password: secret",
      "a password needs a user name",
    ],
    [
      ["--timeout", "5"],
      "timeout 5",
      "  timeout: 5",
      "timeout must be a duration such as 500ms, 5s or 1m, got '5'",
    ],
    [
      ["--endpoint", "http://a:1,https://b:1"],
      "endpoint http://a:1,https://b:1",
      "  endpoints: http://a:1,https://b:1",
      "endpoints mix http:// and https://; use one scheme for all of them",
    ],
    [
      ["--cert", "/c.pem"],
      "",
      "  cert: /c.pem",
      "a client certificate and its key go together; give both or neither",
    ],
    [
      ["--endpoint", "ftp://a:1"],
      "endpoint ftp://a:1",
      "  endpoints: [ftp://a:1]",
      "endpoint 'ftp://a:1' has scheme 'ftp'; use http://, https:// or dns+srv://DOMAIN",
    ],
  ];
  await withoutHomeFiles(() => {
    for (const [flags, corefile, yaml, message] of cases) {
      const flag = flags[0];
      const errors = COMMANDS.map(([name, settings]) => {
        try {
          settings(flags);
        } catch (err) {
          assert.equal((err as Error).name, "UsageError", name);
          return (err as Error).message;
        }
        return `${name} accepted ${flags.join(" ")}`;
      });
      assert.deepEqual(errors, COMMANDS.map(() => `${flag}: ${message}`), flags.join(" "));
      if (corefile !== "") {
        assert.throws(
          () => fromCorefile(`    ${corefile}`),
          (err: Error) => err.message === `Corefile:3 - plugin/etcdhosts: ${message}`,
          corefile,
        );
      }
      const key = yaml.trim().split(":")[0];
      assert.throws(
        () => parseYamlSettings(`etcd:\n${yaml}\n`, "/home/u/.etcdns.yaml"),
        (err: Error) =>
          err.message ===
            `/home/u/.etcdns.yaml: etcd.${key}: ${message}`,
        yaml,
      );
    }
  });
});
