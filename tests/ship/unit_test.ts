/**
 * packaging/etcdns.service: the hardening the issue asks for is there, and systemd itself
 * accepts the unit (`systemd-analyze verify`), where systemd-analyze is installed.
 */
import assert from "node:assert/strict";
import { ROOT } from "../helpers/etcdns.ts";
import { which } from "../helpers/commands.ts";

const UNIT = `${ROOT}packaging/etcdns.service`;

/** The unit's settings: section -> key -> values, in order (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(current && eq > 0, `a setting inside a section: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** The unit with ExecStart pointed at a stub, since verify checks the binary exists. */
async function stagedUnit(dir: string): Promise<string> {
  const stub = `${dir}/etcdns`;
  await Deno.writeTextFile(stub, "#!/bin/sh\n", { mode: 0o755 });
  const text = (await Deno.readTextFile(UNIT)).replace(
    "ExecStart=/usr/local/bin/etcdns ",
    `ExecStart=${stub} `,
  );
  const path = `${dir}/etcdns.service`;
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("etcdns.service is hardened and runs the binary as the docs say", () => {
  const unit = parseUnit(Deno.readTextFileSync(UNIT));
  const service = unit.get("Service")!;
  const one = (key: string) => {
    const v = service.get(key);
    assert.ok(v && v.length === 1, `${key} set once`);
    return v[0];
  };
  assert.equal(one("ExecStart"), "/usr/local/bin/etcdns -conf /etc/etcdns/Corefile");
  assert.equal(one("ExecReload"), "/bin/kill -USR1 $MAINPID");
  assert.equal(one("Restart"), "on-failure");
  assert.equal(one("DynamicUser"), "yes");
  assert.equal(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
  assert.equal(one("CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
  assert.equal(one("NoNewPrivileges"), "yes");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("ProtectHome"), "yes");
  assert.equal(one("PrivateTmp"), "yes");
  // V8 needs writable+executable memory for its JIT: this setting would kill the server.
  assert.equal(service.get("MemoryDenyWriteExecute"), undefined);
  assert.deepEqual(unit.get("Install")?.get("WantedBy"), ["multi-user.target"]);
});

Deno.test({
  name: "systemd-analyze verify accepts etcdns.service (and the TLS drop-in of docs/etcd-tls.md)",
  ignore: !which("systemd-analyze"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-unit-" });
    try {
      const path = await stagedUnit(dir);
      const r = await run("systemd-analyze", ["verify", path]);
      assert.equal(r.code, 0, r.text);
      assert.equal(r.text.trim(), "", "no warnings");

      // The LoadCredential drop-in that docs/etcd-tls.md tells admins to add.
      const doc = await Deno.readTextFile(`${ROOT}docs/etcd-tls.md`);
      const dropIn = /```ini\n(\[Service\]\nLoadCredential=[^`]*)```/.exec(doc);
      assert.ok(dropIn, "docs/etcd-tls.md shows a [Service] LoadCredential drop-in");
      // A drop-in's [Service] lines add to the unit's, so verify the two as one file.
      const combined = (await Deno.readTextFile(path)) + "\n" + dropIn[1];
      await Deno.writeTextFile(`${dir}/combined.service`, combined);
      const r2 = await run("systemd-analyze", ["verify", `${dir}/combined.service`]);
      assert.equal(r2.code, 0, r2.text);
      assert.equal(r2.text.trim(), "", "no warnings with the drop-in");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "systemd-analyze security rates etcdns.service's exposure below 4 (of 10)",
  ignore: !which("systemd-analyze"),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-unit-" });
    try {
      const path = await stagedUnit(dir);
      const r = await run("systemd-analyze", ["security", "--offline=yes", "--no-pager", path]);
      const score = /Overall exposure level for \S+: ([\d.]+)/.exec(r.text);
      if (!score) {
        // --offline needs systemd 250 or newer.
        console.log(`skipped: this systemd-analyze cannot rate a unit file offline`);
        await t.step({ name: "offline security rating", ignore: true, fn: () => {} });
        return;
      }
      console.log(`systemd-analyze security: exposure ${score[1]}`);
      assert.ok(Number(score[1]) < 4, r.text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (!which("systemd-analyze")) {
  console.log(
    "skipped: systemd-analyze is not installed (apt-get install systemd), unit not verified",
  );
}
