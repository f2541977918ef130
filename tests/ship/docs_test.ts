/**
 * The operations guides (docs/cloud-init.md, docs/etcd-tls.md, docs/dns-discovery.md,
 * docs/bootstrap-etcd.md) say
 * things that can be checked here: every Corefile in them passes `etcdns check`, the user data
 * is valid cloud-config, the install.sh options they use exist, and their links resolve. And no
 * Corefile we ship or show makes an open resolver: each binds explicit addresses, and one that
 * forwards restricts clients with acl (or binds loopback only).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { parseCorefile } from "../../src/corefile/mod.ts";
import { ROOT, START } from "../helpers/etcdns.ts";
import { which } from "../helpers/commands.ts";

const DOCS = ["cloud-init.md", "etcd-tls.md", "dns-discovery.md", "bootstrap-etcd.md"];

function read(doc: string): string {
  return Deno.readTextFileSync(`${ROOT}docs/${doc}`);
}

/** The fenced blocks of one language in a Markdown text. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) =>
    m[1]
  );
}

interface UserData {
  write_files: { path: string; content: string; permissions?: string }[];
  runcmd: (string | string[])[];
}

function userData(): { text: string; doc: UserData } {
  const text = blocks(read("cloud-init.md"), "yaml").find((b) => b.startsWith("#cloud-config\n"));
  assert.ok(text, "docs/cloud-init.md has a #cloud-config block");
  return { text, doc: parse(text) as UserData };
}

/** The user data's Corefile as on a node, after runcmd wrote the node's address into it. */
function userDataCorefile(): string {
  const { doc } = userData();
  const commands = doc.runcmd.map((c) => Array.isArray(c) ? c.join(" ") : c);
  const sed = commands.findIndex((c) => /^sed -i "s\/NODE_ADDRESS\//.test(c));
  const install = commands.findIndex((c) => /install\.sh/.test(c));
  assert.ok(sed >= 0 && sed < install, "runcmd writes NODE_ADDRESS before installing");
  return doc.write_files[0].content.replaceAll("NODE_ADDRESS", "10.0.0.21");
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env: { NO_COLOR: "1", ...env }, stdin: "null" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("cloud-init user data writes the Corefile, then installs and starts etcdns", () => {
  const { doc } = userData();
  const corefile = doc.write_files.find((f) => f.path === "/etc/etcdns/Corefile");
  assert.ok(corefile, "write_files has /etc/etcdns/Corefile");
  const resolved = doc.write_files.find((f) => f.path.startsWith("/etc/systemd/resolved.conf.d/"));
  assert.match(resolved?.content ?? "", /^\[Resolve\]\nDNS=127\.0\.0\.1\nDNSStubListener=no\n/);
  const commands = doc.runcmd.map((c) => Array.isArray(c) ? c.join(" ") : c);
  const install = commands.findIndex((c) => /install\.sh \| sh -s -- --now$/.test(c.trim()));
  assert.ok(install >= 0, "runcmd pipes install.sh to sh with --now");
  assert.match(commands[install], /^curl -fsSL https:\/\/github\.com\/[^/]+\/[^/]+\/releases\//);
});

Deno.test({
  name: "cloud-init schema accepts the user data",
  ignore: !which("cloud-init"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "etcdns-docs-" });
    try {
      await Deno.writeTextFile(`${dir}/user-data.yaml`, userData().text);
      const r = await run("cloud-init", ["schema", "--config-file", `${dir}/user-data.yaml`]);
      assert.equal(r.code, 0, r.text);
      assert.match(r.text, /Valid cloud-config/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
if (!which("cloud-init")) {
  console.log("skipped: cloud-init is not installed, the user data was not schema-checked");
}

Deno.test("every Corefile in the guides and packaging/Corefile passes etcdns check", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-docs-" });
  try {
    const corefiles: [string, string][] = [
      ["packaging/Corefile", Deno.readTextFileSync(`${ROOT}packaging/Corefile`)],
      ["Corefile.example", Deno.readTextFileSync(`${ROOT}Corefile.example`)],
      ["cloud-init.md user data", userDataCorefile()],
    ];
    // Every other #cloud-config block's Corefile too (the etcd-cluster user data).
    blocks(read("cloud-init.md"), "yaml").filter((b) => b.startsWith("#cloud-config\n")).slice(1)
      .forEach((b, i) => {
        const doc = parse(b) as UserData;
        const file = doc.write_files.find((f) => f.path === "/etc/etcdns/Corefile");
        assert.ok(file, `cloud-init.md user data #${i + 2} writes /etc/etcdns/Corefile`);
        corefiles.push([`cloud-init.md user data #${i + 2}`, file.content]);
      });
    for (const doc of DOCS) {
      blocks(read(doc), "corefile").forEach((b, i) => corefiles.push([`${doc} #${i + 1}`, b]));
      // Corefiles written by a heredoc inside a shell example.
      for (const sh of blocks(read(doc), "sh")) {
        for (const m of sh.matchAll(/cat >Corefile <<'EOF'\n([\s\S]*?)\nEOF\n/g)) {
          corefiles.push([`${doc} (shell example)`, m[1] + "\n"]);
        }
      }
    }
    assert.ok(corefiles.length >= 6, `found ${corefiles.length} Corefiles`);
    for (const [name, text] of corefiles) {
      await t.step(name, async () => {
        const path = `${dir}/Corefile`;
        await Deno.writeTextFile(path, text);
        const r = await run(START, ["check", "-conf", path], {
          CREDENTIALS_DIRECTORY: "/run/credentials/etcdns.service",
        });
        assert.equal(r.code, 0, `${name}:\n${text}\n${r.text}`);
        assert.match(r.text, /OK, \d+ server block/);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the install.sh options the guides use exist", async () => {
  const help = (await run("sh", [`${ROOT}scripts/install.sh`, "--help"])).text;
  for (const doc of DOCS) {
    for (const line of read(doc).split("\n").filter((l) => /install\.sh/.test(l))) {
      for (const opt of line.match(/(?<=\s)--[a-z-]+/g) ?? []) {
        assert.ok(help.includes(opt), `${doc}: install.sh ${opt} is in --help`);
      }
      for (const v of line.match(/\b[A-Z][A-Z_]+(?==)/g) ?? []) {
        assert.ok(help.includes(v), `${doc}: ${v} is in install.sh --help`);
      }
    }
  }
});

Deno.test("the guides' relative links resolve", () => {
  for (const doc of DOCS) {
    for (const m of read(doc).matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
      const target = new URL(m[1], `file://${ROOT}docs/`).pathname;
      assert.ok(Deno.statSync(target), `${doc} links to ${m[1]}`);
    }
    for (const m of read(doc).matchAll(/`((?:tests|scripts|packaging|src)\/[\w./-]+)`/g)) {
      assert.ok(Deno.statSync(`${ROOT}${m[1]}`), `${doc} names ${m[1]}, which exists`);
    }
  }
});

Deno.test("cloud-init's etcd-bootstrap script runs the steps docs/bootstrap-etcd.md tests", () => {
  const data = blocks(read("cloud-init.md"), "yaml").filter((b) => b.startsWith("#cloud-config\n"));
  const doc = parse(data[1]) as UserData;
  const script = doc.write_files.find((f) => f.path === "/usr/local/sbin/etcd-bootstrap");
  assert.ok(script, "the etcd user data writes /usr/local/sbin/etcd-bootstrap");
  const tested = blocks(read("bootstrap-etcd.md"), "sh").find((b) => b.startsWith("TOKEN="));
  assert.ok(tested, "bootstrap-etcd.md has the node script");
  // The same commands from `eval` on; only where TOKEN comes from differs.
  const steps = (text: string) => text.slice(text.indexOf('eval "$(etcdns slots self')).trim();
  assert.equal(steps(script.content), steps(tested));
  const units = doc.write_files.map((f) => f.path);
  assert.ok(units.includes("/etc/systemd/system/etcd-bootstrap.service"));
  assert.ok(
    doc.runcmd.some((c) => (Array.isArray(c) ? c.join(" ") : c).includes("etcd-bootstrap")),
  );
});

/** Every Corefile shipped or shown to users: files, guides, README.md and plugin READMEs. */
function shownCorefiles(): [string, string][] {
  const found: [string, string][] = [
    ["Corefile.example", Deno.readTextFileSync(`${ROOT}Corefile.example`)],
    ["packaging/Corefile", Deno.readTextFileSync(`${ROOT}packaging/Corefile`)],
    ["cloud-init.md user data", userDataCorefile()],
  ];
  const docs = [...Deno.readDirSync(`${ROOT}docs`)].filter((e) => e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`);
  const readmes = [...Deno.readDirSync(`${ROOT}src/plugins`)]
    .filter((e) => e.isDirectory)
    .map((e) => `src/plugins/${e.name}/README.md`)
    .filter((p) => {
      try {
        return Deno.statSync(`${ROOT}${p}`).isFile;
      } catch {
        return false;
      }
    });
  for (const path of [...docs, "README.md", ...readmes]) {
    const md = Deno.readTextFileSync(`${ROOT}${path}`);
    blocks(md, "corefile").forEach((b, i) => found.push([`${path} #${i + 1}`, b]));
    // README.md shows Corefiles in plain fences.
    blocks(md, "").filter((b) => /^\S+ \{\n/.test(b)).forEach((b, i) =>
      found.push([`${path} plain #${i + 1}`, b])
    );
    for (const sh of blocks(md, "sh")) {
      for (const m of sh.matchAll(/cat >Corefile <<'EOF'\n([\s\S]*?)\nEOF\n/g)) {
        found.push([`${path} (shell example)`, m[1] + "\n"]);
      }
    }
  }
  return found;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|lo)$/;

Deno.test("no shown Corefile is an open resolver: bind everywhere, acl wherever it forwards", () => {
  const corefiles = shownCorefiles();
  assert.ok(corefiles.length >= 30, `found ${corefiles.length} Corefiles`);
  const problems: string[] = [];
  for (const [name, text] of corefiles) {
    for (const block of parseCorefile(text, { file: name }).blocks) {
      const names = block.directives.map((d) => d.name);
      const bind = block.directives.find((d) => d.name === "bind");
      if (!bind) {
        problems.push(`${name}: a server block without bind listens on every address`);
        continue;
      }
      const loopbackOnly = bind.args.every((a) => LOOPBACK.test(a));
      if (names.includes("forward") && !names.includes("acl") && !loopbackOnly) {
        problems.push(`${name}: forwards for anyone on ${bind.args.join(" ")}; add an acl`);
      }
    }
  }
  assert.deepEqual(problems, []);
  // The shipped files and the guides restrict clients with acl even where they bind loopback.
  for (const [name, text] of corefiles) {
    if (/^(Corefile\.example|cloud-init|docs\/)/.test(name) && /\bforward\b/.test(text)) {
      assert.match(text, /^\s*acl\b/m, `${name} forwards, so it has an acl`);
    }
  }
});
