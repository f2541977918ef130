/**
 * scripts/install.sh against a release served over loopback HTTP: fake binaries assembled by
 * packaging/release-assets.sh (the release workflow's own step), installed into a temp root.
 */
import assert from "node:assert/strict";
import { ROOT } from "../helpers/etcdns.ts";

const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/** A fake etcdns that answers -version as the real one does. */
function fakeBinary(version: string, target: string): string {
  return `#!/bin/sh\necho "etcdns-${version}"\necho "${target}"\n`;
}

/** Builds one release's assets with packaging/release-assets.sh; returns the asset directory. */
async function makeRelease(dir: string, version: string): Promise<string> {
  const dist = `${dir}/dist-${version}`;
  const out = `${dir}/release-${version}`;
  await Deno.mkdir(dist, { recursive: true });
  for (const t of TARGETS) {
    await Deno.writeTextFile(`${dist}/etcdns-${t}`, fakeBinary(version, t), { mode: 0o755 });
  }
  await Deno.writeTextFile(`${dist}/etcdns-x86_64-pc-windows-msvc.exe`, "MZ fake");
  const r = await run(`${ROOT}packaging/release-assets.sh`, [dist, out, "example/etcdns"]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Every file under `dir`, relative, with its content and mtime. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${dir}/${rel}`)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else {
        const st = await Deno.stat(`${dir}/${path}`);
        const text = await Deno.readTextFile(`${dir}/${path}`);
        files.set(path, `${st.mtime?.getTime()} ${st.mode?.toString(8)} ${text}`);
      }
    }
  };
  await walk("");
  return files;
}

Deno.test("install.sh installs a verified release into a root, idempotently", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "etcdns-install-" });
  const releases = new Map<string, string>([
    ["v1.2.3", await makeRelease(dir, "1.2.3")],
    ["v1.2.4", await makeRelease(dir, "1.2.4")],
    ["v6.6.6", await makeRelease(dir, "6.6.6")],
  ]);
  // v6.6.6 is tampered with after its SHA256SUMS was written: a man in the middle's binary.
  for (const target of TARGETS) {
    await Deno.writeTextFile(
      `${releases.get("v6.6.6")}/etcdns-${target}`,
      "#!/bin/sh\necho evil\n",
    );
  }
  const requests: string[] = [];
  // GitHub's layout: BASE/latest/download/NAME and BASE/download/VERSION/NAME.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      requests.push(path);
      const m = /^\/releases\/(?:latest\/download|download\/(v[^/]+))\/([^/]+)$/.exec(path);
      const assets = m ? releases.get(m[1] ?? "v1.2.3") : undefined;
      if (!m || !assets) return new Response("not found", { status: 404 });
      try {
        return new Response(await Deno.readFile(`${assets}/${m[2]}`));
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/releases`;
  const root = `${dir}/root`;
  await Deno.mkdir(root);
  // The published install.sh, as users download it.
  const installSh = `${releases.get("v1.2.3")}/install.sh`;
  const install = (...args: string[]) =>
    run("sh", [installSh, "--root", root, ...args], { ETCDNS_RELEASE_URL: base });
  const bin = `${root}/usr/local/bin/etcdns`;
  const unit = `${root}/etc/systemd/system/etcdns.service`;
  const corefile = `${root}/etc/etcdns/Corefile`;

  try {
    await t.step("the published install.sh points at the releasing repository", async () => {
      const text = await Deno.readTextFile(installSh);
      assert.match(text, /^default_repo="example\/etcdns"$/m);
      const help = await run("sh", [installSh, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /example\/etcdns/);
    });

    await t.step("--dry-run downloads and verifies, but changes nothing", async () => {
      const r = await install("--dry-run");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`would install ${bin}`));
      assert.match(r.stdout, new RegExp(`would install ${unit}`));
      assert.match(r.stdout, new RegExp(`would install ${corefile}`));
      assert.match(r.stdout, /dry run: nothing was changed \(etcdns-1\.2\.3\)/);
      assert.deepEqual([...(await snapshot(root)).keys()], []);
      assert.ok(requests.includes("/releases/latest/download/SHA256SUMS"), requests.join(" "));
    });

    await t.step("installs the latest release: binary, unit and Corefile", async () => {
      const r = await install();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /installed etcdns-1\.2\.3/);
      const host = (await run(bin, ["-version"])).stdout;
      assert.match(host, /^etcdns-1\.2\.3\n/);
      assert.equal((await Deno.stat(bin)).mode! & 0o777, 0o755);
      assert.equal(
        await Deno.readTextFile(unit),
        await Deno.readTextFile(`${ROOT}packaging/etcdns.service`),
      );
      assert.equal(
        await Deno.readTextFile(corefile),
        await Deno.readTextFile(`${ROOT}packaging/Corefile`),
      );
    });

    await t.step("a second run changes nothing", async () => {
      const before = await snapshot(root);
      const r = await install();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /already up to date: etcdns-1\.2\.3/);
      assert.match(r.stdout, /unchanged .*\/usr\/local\/bin\/etcdns/);
      assert.match(r.stdout, /kept .*\/etc\/etcdns\/Corefile \(exists\)/);
      assert.deepEqual(await snapshot(root), before);
    });

    await t.step("an upgrade replaces the binary and keeps the admin's Corefile", async () => {
      await Deno.writeTextFile(corefile, ". {\n    whoami\n}\n");
      const r = await install("--version", "1.2.4");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /replaced .*\/usr\/local\/bin\/etcdns/);
      assert.match(r.stdout, /installed etcdns-1\.2\.4/);
      assert.match((await run(bin, ["-version"])).stdout, /^etcdns-1\.2\.4\n/);
      assert.equal(await Deno.readTextFile(corefile), ". {\n    whoami\n}\n");
      assert.ok(requests.includes("/releases/download/v1.2.4/SHA256SUMS"));
    });

    await t.step("a tampered asset is refused and nothing is installed", async () => {
      const before = await snapshot(root);
      const r = await install("--version", "v6.6.6");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /checksum mismatch for etcdns-[a-z0-9_-]+ .*refusing to install it/);
      assert.deepEqual(await snapshot(root), before);
      assert.match((await run(bin, ["-version"])).stdout, /^etcdns-1\.2\.4\n/);
    });

    await t.step("a release that does not exist is a clear error", async () => {
      const r = await install("--version", "v9.9.9");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /could not download .*\/download\/v9\.9\.9\/SHA256SUMS/);
    });

    await t.step("--no-service installs the binary only; a bad option is refused", async () => {
      const bare = `${dir}/bare`;
      const r = await run("sh", [installSh, "--root", bare, "--no-service"], {
        ETCDNS_RELEASE_URL: base,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...(await snapshot(bare)).keys()], ["usr/local/bin/etcdns"]);
      const bad = await install("--frobnicate");
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /unknown option '--frobnicate'/);
    });

    await t.step("bash runs it too (it is POSIX sh)", async () => {
      const r = await run("bash", [installSh, "--root", root, "--version", "v1.2.4"], {
        ETCDNS_RELEASE_URL: base,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /already up to date/);
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
