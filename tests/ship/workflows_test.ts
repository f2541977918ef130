/**
 * The GitHub workflows cannot run here, so their structure is checked: they parse, the right
 * events trigger them, actions are pinned, and the steps call scripts that exist.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { ROOT } from "../helpers/etcdns.ts";

type Yaml = Record<string, unknown>;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Yaml;
  env?: Yaml;
}

interface Job {
  "runs-on"?: string;
  needs?: string | string[];
  uses?: string;
  permissions?: Yaml;
  steps?: Step[];
}

interface Workflow {
  name: string;
  on: Yaml;
  permissions?: Yaml;
  jobs: Record<string, Job>;
}

function load(name: string): Workflow {
  const doc = parse(Deno.readTextFileSync(`${ROOT}.github/workflows/${name}`)) as Workflow;
  assert.equal(typeof doc.name, "string", `${name}: name`);
  assert.ok(doc.on && typeof doc.on === "object", `${name}: on`);
  assert.ok(doc.jobs && Object.keys(doc.jobs).length > 0, `${name}: jobs`);
  return doc;
}

function steps(wf: Workflow): Step[] {
  return Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
}

/** Every script a `run:` step calls by a repository path must exist and be executable. */
function assertScriptsExist(wf: Workflow): void {
  for (const step of steps(wf)) {
    for (const path of step.run?.match(/(?:scripts|packaging)\/[\w.-]+/g) ?? []) {
      const st = Deno.statSync(`${ROOT}${path}`);
      assert.ok(st.isFile && (st.mode! & 0o111) !== 0, `${path} is an executable file`);
    }
  }
}

/** Actions are pinned to a full version tag or a commit SHA, never a branch or major tag. */
function assertPinned(wf: Workflow): void {
  for (const step of steps(wf)) {
    if (!step.uses || step.uses.startsWith("./")) continue;
    assert.match(step.uses, /^[\w.-]+\/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/, step.uses);
  }
}

Deno.test("ci.yml runs scripts/test on pushes and pull requests", () => {
  const ci = load("ci.yml");
  assert.ok("push" in ci.on && "pull_request" in ci.on, "push and pull_request trigger it");
  assert.ok("workflow_call" in ci.on, "release.yml can call it");
  assert.deepEqual(ci.permissions, { contents: "read" });
  const runs = steps(ci).map((s) => s.run ?? "");
  assert.ok(runs.some((r) => /^scripts\/test\b/m.test(r)), "a step runs scripts/test");
  assert.ok(steps(ci).some((s) => s.uses?.startsWith("actions/checkout@")));
  assertPinned(ci);
  assertScriptsExist(ci);
});

Deno.test("release.yml tests, compiles every target and publishes checksummed assets", () => {
  const rel = load("release.yml");
  const push = rel.on.push as Yaml;
  assert.deepEqual(push.tags, ["v*"], "runs on v* tags");
  assert.deepEqual(rel.permissions, { contents: "read" }, "read-only unless a job asks");

  const test = rel.jobs.test;
  assert.equal(test.uses, "./.github/workflows/ci.yml", "the tests are ci.yml's");

  const [name, release] = Object.entries(rel.jobs).find(([, j]) => j.steps)!;
  assert.ok(
    [release.needs].flat().includes("test"),
    `${name} waits for the tests`,
  );
  assert.deepEqual(release.permissions, { contents: "write" }, "only publishing may write");
  const runs = (release.steps ?? []).map((s) => s.run ?? "");
  const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
  const compile = at(/scripts\/compile --all/);
  const smoke = at(/-version/);
  const assets = at(/packaging\/release-assets\.sh dist (\S+) "\$GITHUB_REPOSITORY"/);
  const publish = at(/gh release create "\$GITHUB_REF_NAME" .*release\/\*/);
  assert.ok(compile >= 0 && smoke > compile, "the compiled binary's -version is checked");
  assert.ok(assets > smoke && publish > assets, "assets, then publish");
  assert.match(runs[smoke], /etcdns-\$\{GITHUB_REF_NAME#v\}/, "the tag matches the version");
  const publishStep = release.steps![publish];
  assert.equal(publishStep.env?.GH_TOKEN, "${{ github.token }}");
  assertPinned(rel);
  assertScriptsExist(rel);
});

Deno.test("release-assets.sh and scripts/compile agree on the targets", () => {
  const compile = Deno.readTextFileSync(`${ROOT}scripts/compile`);
  const targets = /TARGETS=\(([^)]*)\)/.exec(compile)![1].trim().split(/\s+/);
  assert.equal(targets.length, 5);
  const assets = Deno.readTextFileSync(`${ROOT}packaging/release-assets.sh`);
  for (const t of targets) {
    const name = t.includes("windows") ? `etcdns-${t}.exe` : `etcdns-${t}`;
    assert.ok(assets.includes(name), `release-assets.sh ships ${name}`);
  }
  const install = Deno.readTextFileSync(`${ROOT}scripts/install.sh`);
  for (const t of targets.filter((t) => !t.includes("windows"))) {
    assert.ok(install.includes(t), `install.sh knows ${t}`);
  }
});
