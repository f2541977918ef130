/**
 * `etcdns hosts` against a real etcd, run as a process the way operators run it: round trips,
 * strict refusal of bad files, concurrent edits, rollback, history across compaction, the
 * editor loop driven by a non-interactive $EDITOR script, and the settings sources.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { getText, startEtcd, type TestEtcd } from "../helpers/etcd.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** `deno task start`: main.ts with the compiled binary's exact permissions. */
const START = `${ROOT}scripts/start`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `etcdns hosts ARGS` with HOME in `home` (so no real ~/.etcdns.yaml is read). */
async function hosts(home: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(START, {
    args: ["hosts", ...args],
    env: { HOME: home, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

interface Env {
  etcd: TestEtcd;
  home: string;
  /** Runs the CLI against the test etcd with `--key`. */
  run(args: string[], env?: Record<string, string>): Promise<Run>;
  /** The key's value and mod revision now. */
  current(): Promise<{ value: string | null; mod: number }>;
  file(name: string, content: string | Uint8Array): Promise<string>;
}

const KEY = "/etcdhosts";

async function withEnv(fn: (e: Env) => Promise<void>): Promise<void> {
  const etcd = await startEtcd();
  const home = await Deno.makeTempDir({ prefix: "etcdns-cli-" });
  const client = etcd.client();
  const e: Env = {
    etcd,
    home,
    run: (args, env) => hosts(home, ["--endpoint", etcd.endpoint, ...args], env),
    async current() {
      const res = await client.range({ key: KEY });
      const kv = res.kvs[0];
      return kv
        ? { value: kv.value.toString(), mod: Number(kv.mod_revision) }
        : { value: null, mod: 0 };
    },
    async file(name, content) {
      const path = `${home}/${name}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      return path;
    },
  };
  try {
    await fn(e);
  } finally {
    await etcd.close();
    await Deno.remove(home, { recursive: true });
  }
}

const V1 =
  "# cluster hosts\n10.0.0.1\tweb.example.org www.example.org\n10.0.0.2 db.example.org # primary\n";
const V2 = V1 + "fd00::5 db.example.org\n";

Deno.test("hosts CLI: upload then dump gives the same bytes; -o and -r; unchanged upload writes nothing", async () => {
  await withEnv(async (e) => {
    const f1 = await e.file("v1", V1);
    const up = await e.run(["upload", f1]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /uploaded .* 3 entries, revision \d+/);
    const rev1 = (await e.current()).mod;
    const dump = await e.run(["dump"]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.equal(dump.stdout, V1);

    const again = await e.run(["upload", f1]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already has this content/);
    assert.equal((await e.current()).mod, rev1, "nothing written");

    await e.run(["upload", await e.file("v2", V2)]);
    const old = await e.run(["dump", "-r", String(rev1)]);
    assert.equal(old.stdout, V1);
    const outFile = `${e.home}/out`;
    assert.equal((await e.run(["dump", "-o", outFile])).code, 0);
    assert.equal(await Deno.readTextFile(outFile), V2);
  });
});

Deno.test("hosts CLI: bad files are refused with line numbers and etcd is unchanged", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("good", V1)]);
    const before = await e.current();
    const bad = await e.file(
      "bad",
      "10.0.0.1 ok\n10.0.0.300 badip\n10.0.0.3\n# fine\n10.0.0.4 bad_host!\n",
    );
    const r = await e.run(["upload", bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad:2: '10\.0\.0\.300' is not an IPv4 or IPv6 address/);
    assert.match(r.stderr, /bad:3: address 10\.0\.0\.3 has no host name/);
    assert.match(r.stderr, /bad:5: 'bad_host!' is not a valid host name/);
    assert.match(r.stderr, /refused: 3 bad lines in .*; nothing was written/);
    const garbage = new Uint8Array(300);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 97 + 13) % 256;
    const g = await e.run(["upload", await e.file("garbage", garbage)]);
    assert.equal(g.code, 1);
    assert.match(g.stderr, /garbage:1: binary data/);
    assert.deepEqual(await e.current(), before);
  });
});

Deno.test("hosts CLI: a write without a usable line is refused unless --allow-empty", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("good", V1)]);
    const before = await e.current();
    for (
      const [name, content] of [
        ["empty", ""],
        ["blank", "\n  \n\t\n"],
        ["comments", "# cluster hosts\n   # all gone\n"],
      ]
    ) {
      const r = await e.run(["upload", await e.file(name, content)]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`^etcdns hosts: refused: \\S+/${name} (is empty|has no entry)`),
      );
      assert.match(r.stderr, /nothing was written to \/etcdhosts/);
      assert.match(r.stderr, /keep serving their last good data/);
      assert.match(r.stderr, /add --allow-empty/);
      assert.deepEqual(await e.current(), before, `${name}: etcd value and mod revision unchanged`);
    }
    const stdin = await new Deno.Command(START, {
      args: ["hosts", "--endpoint", e.etcd.endpoint, "upload", "-"],
      env: { HOME: e.home, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(stdin.code, 1, "an empty stdin is refused too");
    assert.deepEqual(await e.current(), before);

    // del of the last entry, and rollback to an empty revision, are writes too.
    await e.run(["upload", await e.file("one", "10.0.0.1 only.example.org\n")]);
    const one = await e.current();
    const d = await e.run(["del", "10.0.0.1", "only.example.org"]);
    assert.equal(d.code, 1, d.stderr);
    assert.match(d.stderr, /refused: \/etcdhosts after this change is empty/);
    assert.deepEqual(await e.current(), one);

    // Editing it down to comments is refused; the edited file is kept.
    const editor = await editorScript(e.home, [`printf '# nothing\\n' > "$1"`]);
    const ed = await e.run(["edit"], { VISUAL: editor });
    assert.equal(ed.code, 1, ed.stderr);
    assert.match(ed.stderr, /refused: edited file has no entry/);
    assert.deepEqual(await e.current(), one);

    // --allow-empty writes it, and says what nodes do with it.
    const ok = await e.run(["upload", "--allow-empty", await e.file("empty", "")]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /uploaded .*: 0 entries, revision \d+/);
    assert.match(ok.stderr, /note: \/etcdhosts now has no usable line \(--allow-empty\)/);
    const empty = await e.current();
    assert.equal(empty.value, "");

    const rb = await e.run(["rollback", String(before.mod)]);
    assert.equal(rb.code, 0, rb.stderr);
    const restored = await e.current();
    assert.equal(restored.value, V1);
    const back = await e.run(["rollback", String(empty.mod)]);
    assert.equal(back.code, 1, back.stderr);
    assert.match(back.stderr, /refused: \/etcdhosts@\d+ is empty/);
    assert.deepEqual(await e.current(), restored);
    const forced = await e.run(["rollback", "--allow-empty", String(empty.mod)]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await e.current()).value, "");

    const misuse = await e.run(["dump", "--allow-empty"]);
    assert.equal(misuse.code, 2);
    assert.match(misuse.stderr, /--allow-empty belongs to upload, edit, rollback, del, purge/);
  });
});

Deno.test("hosts CLI: add, del, purge edit only their lines", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("v1", V1)]);
    assert.equal((await e.run(["add", "10.0.0.2", "db2.example.org", "DB.example.org"])).code, 0);
    assert.equal((await e.run(["add", "10.0.0.9", "new.example.org"])).code, 0);
    assert.equal(
      (await e.current()).value,
      "# cluster hosts\n10.0.0.1\tweb.example.org www.example.org\n10.0.0.2\tdb.example.org db2.example.org # primary\n10.0.0.9\tnew.example.org\n",
    );
    const same = await e.run(["add", "10.0.0.9", "new.example.org"]);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /nothing written/);
    assert.equal((await e.run(["del", "10.0.0.1", "www.example.org"])).code, 0);
    assert.equal((await e.run(["purge", "db.example.org"])).code, 0);
    assert.equal(
      (await e.current()).value,
      "# cluster hosts\n10.0.0.1\tweb.example.org\n10.0.0.2\tdb2.example.org # primary\n10.0.0.9\tnew.example.org\n",
    );
    const missing = await e.run(["del", "10.0.0.1", "nothere"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no entry '10\.0\.0\.1 nothere'/);
    assert.equal((await e.run(["purge", "nothere"])).code, 1);
    const badIp = await e.run(["add", "10.0.0", "x"]);
    assert.equal(badIp.code, 2);
    assert.match(badIp.stderr, /'10\.0\.0' is not an IPv4 or IPv6 address/);
  });
});

Deno.test("hosts CLI: rollback, version across compaction, diff", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("v1", V1)]);
    const rev1 = (await e.current()).mod;
    await e.run(["upload", await e.file("v2", V2)]);
    const rev2 = (await e.current()).mod;

    const d = await e.run(["diff", String(rev1), String(rev2)]);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(d.stdout.includes(`--- /etcdhosts@${rev1}\n+++ /etcdhosts@${rev2}\n`), d.stdout);
    assert.ok(d.stdout.includes("\n+fd00::5 db.example.org\n"), d.stdout);

    const rb = await e.run(["rollback", String(rev1)]);
    assert.equal(rb.code, 0, rb.stderr);
    const now = await e.current();
    assert.equal(now.value, V1);
    assert.ok(now.mod > rev2, "rollback is a new revision");

    const v = await e.run(["version"]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, new RegExp(`^\\s+3\\s+${now.mod}  \\(current\\)$`, "m"));
    assert.match(v.stdout, new RegExp(`^\\s+1\\s+${rev1}$`, "m"));

    // After compaction the older versions are gone; history stops there without failing.
    await e.run(["add", "10.0.0.7", "later"]);
    await e.etcd.compact();
    await e.run(["add", "10.0.0.8", "later2"]);
    const h = await e.run(["history"]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /compacted/);
    assert.match(h.stdout, /^\s+5\s+\d+ {2}\(current\)$/m);
    const gone = await e.run(["dump", "-r", String(rev1)]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /compacted/);
    assert.equal((await e.run(["rollback", String(rev1)])).code, 1);
  });
});

/** Writes an editor script: each run applies the next step (a shell snippet on "$1"). */
async function editorScript(dir: string, steps: string[]): Promise<string> {
  const counter = `${dir}/editor-count`;
  const cases = steps.map((s, i) => `  ${i}) ${s} ;;`).join("\n");
  const path = `${dir}/editor.sh`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nn=$(cat "${counter}" 2>/dev/null || echo 0)\necho $((n+1)) > "${counter}"\ncase $n in\n${cases}\n  *) exit 9 ;;\nesac\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("hosts CLI: edit saves, re-opens on errors, and does nothing when unchanged", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("v1", V1)]);
    // Round 1 writes a bad line; the CLI re-opens with the errors on top; round 2 fixes it.
    const editor = await editorScript(e.home, [
      `printf '10.0.0.50 broken\\n10.0.0.51\\n' >> "$1"`,
      `grep -q '^# etcdns: .*no host name' "$1" && sed -i 's/^10.0.0.51$/10.0.0.51 fixed.example.org/' "$1"`,
    ]);
    const r = await e.run(["edit"], { EDITOR: editor, VISUAL: "" });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /edited file:\d+: address 10\.0\.0\.51 has no host name/);
    assert.equal((await e.current()).value, V1 + "10.0.0.50 broken\n10.0.0.51 fixed.example.org\n");

    const before = await e.current();
    const noop = await editorScript(`${e.home}`, [":"]);
    await Deno.remove(`${e.home}/editor-count`);
    const n = await e.run(["edit"], { VISUAL: noop });
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stdout, /no changes/);
    assert.deepEqual(await e.current(), before);

    // Saving the rejected text again unchanged gives up without writing.
    await Deno.remove(`${e.home}/editor-count`);
    const stubborn = await editorScript(e.home, [
      `echo 'bad line' >> "$1"`,
      `sed -i '/^# etcdns: /d' "$1"`,
    ]);
    const s = await e.run(["edit"], { VISUAL: stubborn });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /saved unchanged; nothing was written/);
    assert.deepEqual(await e.current(), before);
  });
});

Deno.test("hosts CLI: a concurrent change during edit is reported, never overwritten", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("v1", V1)]);
    // While "our" admin edits, another admin adds an entry with the CLI.
    const other =
      `HOME='${e.home}' '${START}' hosts --endpoint ${e.etcd.endpoint} add 10.0.0.99 other.example.org >/dev/null`;
    const editor = await editorScript(e.home, [`${other} && echo '10.0.0.77 mine' >> "$1"`]);
    const r = await e.run(["edit"], { EDITOR: editor });
    assert.equal(r.code, 3, "a lost race has its own exit code");
    assert.match(r.stderr, /was changed by someone else since it was read .* nothing was written/);
    const kept = /kept at (\S+)/.exec(r.stderr)?.[1];
    assert.ok(kept, r.stderr);
    assert.ok((await Deno.readTextFile(kept)).includes("10.0.0.77 mine"));
    await Deno.remove(kept.replace(/\/hosts$/, ""), { recursive: true });
    const now = (await e.current()).value!;
    assert.ok(now.includes("other.example.org"), "the other admin's change survives");
    assert.ok(!now.includes("mine"));
  });
});

Deno.test("hosts CLI: 10 parallel adds of different names all succeed and none is lost", async () => {
  await withEnv(async (e) => {
    await e.run(["upload", await e.file("v1", V1)]);
    const names = Array.from({ length: 10 }, (_, i) => `node${i}.example.org`);
    const runs = await Promise.all(names.map((n, i) => e.run(["add", `10.9.0.${i + 1}`, n])));
    runs.forEach((r, i) => assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`));
    const now = (await e.current()).value!;
    for (const [i, n] of names.entries()) {
      assert.ok(now.includes(`10.9.0.${i + 1}\t${n}`), `${n} is missing:\n${now}`);
    }
    assert.ok(now.startsWith(V1), "the earlier lines are kept");
  });
});

Deno.test("hosts CLI: settings from dnsctl YAML, from -conf Corefile, and usage errors", async () => {
  await withEnv(async (e) => {
    // dnsctl's file, found as ~/.dnsctl.yaml when there is no ~/.etcdns.yaml.
    await e.file(
      ".dnsctl.yaml",
      `dnskey: /dnsctl/hosts\netcd:\n  endpoints:\n    - ${e.etcd.endpoint}\n`,
    );
    const a = await hosts(e.home, ["add", "10.1.1.1", "yaml.example.org"]);
    assert.equal(a.code, 0, a.stderr);
    const client = e.etcd.client();
    assert.equal(await getText(client, "/dnsctl/hosts"), "10.1.1.1\tyaml.example.org\n");

    const corefile = await e.file(
      "Corefile",
      `. {\n  etcdhosts . {\n    key /from/corefile\n    endpoint ${e.etcd.endpoint}\n  }\n}\n`,
    );
    const c = await hosts(e.home, ["-conf", corefile, "add", "10.2.2.2", "conf.example.org"]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await getText(client, "/from/corefile"), "10.2.2.2\tconf.example.org\n");

    const badYaml = await e.file("bad.yaml", "etcd:\n  endpoint: http://x\n");
    const b = await hosts(e.home, ["--config", badYaml, "dump"]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /unknown setting 'etcd\.endpoint'/);

    for (
      const args of [
        ["frobnicate"],
        ["dump", "--bogus"],
        ["upload"],
        ["diff", "1"],
        ["rollback", "x"],
        ["add", "10.0.0.1"],
        ["upload", "f", "-r", "3"],
      ]
    ) {
      const u = await e.run(args);
      assert.equal(u.code, 2, `${args.join(" ")}: ${u.stderr}`);
      assert.match(u.stderr, /usage: etcdns hosts/);
    }
    const cfg = await hosts(e.home, ["config"]);
    assert.equal(cfg.code, 0);
    assert.match(cfg.stdout, /endpoints:/);
    assert.equal(Buffer.from(cfg.stdout).length > 0, true);
  });
});
