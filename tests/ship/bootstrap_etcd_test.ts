/**
 * docs/bootstrap-etcd.md, run on loopback: three etcdns nodes with the page's Corefile claim
 * etcd1..etcd3; the page's `etcdns discovery new --size 3` makes a token; then the page's node
 * script, as written, names each etcd member after its slot (`etcdns slots self`) and bootstraps
 * one cluster through `--discovery` served by etcdns.
 *
 * What changes because all three "nodes" share one host: each node binds its own 127.0.58.x
 * address (DNS and discovery) and publishes it, the backing etcd is the test's, `etcdns` is
 * scripts/start, each member gets its own data dir, and the shared 127.0.0.1:2379 listener is
 * dropped.
 */
import assert from "node:assert/strict";
import { getText, memberList, startEtcd } from "../helpers/etcd.ts";
import { runCommand } from "../helpers/commands.ts";
import { type MemberProcess, waitHealthy } from "../helpers/etcd_member.ts";
import { type EtcdnsProcess, ROOT, START } from "../helpers/etcdns.ts";
import { startNodes } from "../helpers/loopback_nodes.ts";
import { spawnCollecting, type Spawned } from "../helpers/spawn.ts";

const IPS = ["127.0.58.11", "127.0.58.12", "127.0.58.13"];
const DOC = Deno.readTextFileSync(`${ROOT}docs/bootstrap-etcd.md`);

function fenced(lang: string): string[] {
  return [...DOC.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

/** The page's Corefile, pointed at the test etcd, each node on its own loopback address. */
function docCorefile(endpoint: string): string {
  const corefile = fenced("corefile")[0];
  assert.equal(corefile.match(/endpoint http:\/\/10\.0\.0\.10:2379\n/g)?.length, 2);
  assert.ok(corefile.includes("\n    discovery {\n"), "the Corefile has a discovery block");
  return corefile
    .replace("    bind 127.0.0.1\n", "    bind {$NODE_IP}\n")
    .replace(
      "endpoint http://10.0.0.10:2379\n        limit",
      `endpoint ${endpoint}\n        address {$NODE_IP}\n        limit`,
    )
    .replace("endpoint http://10.0.0.10:2379", `endpoint ${endpoint}`)
    .replace("    discovery {\n", "    discovery {$NODE_IP}:2382 {\n");
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

Deno.test({
  name: "docs/bootstrap-etcd.md: three fresh nodes claim etcd1..3 and bootstrap etcd as written",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const etcd = await startEtcd();
    const nodes: EtcdnsProcess[] = [];
    const dir = await Deno.makeTempDir({ prefix: "etcdns-bootstrap-" });
    const members: (Spawned & MemberProcess)[] = [];
    const logs = () => members.map((m) => `--- ${m.name}:\n${m.output().slice(-3000)}`).join("\n");
    try {
      nodes.push(...await startNodes(docCorefile(etcd.endpoint), IPS));

      // Step 1, as written, on the first node.
      const step1 = fenced("sh").find((b) => b.startsWith("etcdns discovery new"))!;
      const newLine = step1.split("\n")[0];
      assert.equal(newLine, "etcdns discovery new --size 3 -conf /etc/etcdns/Corefile");
      const made = await runCommand(START, [
        ...newLine.split(" ").slice(1, -1),
        nodes[0].corefilePath,
      ], {
        env: { NODE_IP: IPS[0] },
      });
      const madeText = made.stdout;
      assert.equal(made.code, 0, made.stderr);
      const url = /^--discovery (http:\/\/\S+)$/m.exec(madeText)?.[1];
      assert.ok(url, madeText);
      const token = url.split("/").pop()!;
      assert.match(madeText, new RegExp(`^--discovery-token ${token} --discovery-endpoints `, "m"));

      // Every node's etcdns serves the token, from the same etcd.
      for (const ip of IPS) {
        const res = await fetch(`http://${ip}:2382/${token}/_config/size`);
        assert.equal((await res.json()).node.value, "3");
      }

      // Step 2, the node script as written, with the one-host substitutions.
      const script = fenced("sh").find((b) => b.startsWith("TOKEN="))!;
      assert.match(script, /--discovery "http:\/\/127\.0\.0\.1:2382\/\$TOKEN"/);
      assert.match(script, /etcdns slots self --wait 120s -conf \/etc\/etcdns\/Corefile/);
      for (const [i, ip] of IPS.entries()) {
        const node = nodes[i];
        const conf = node.port === 53
          ? node.corefilePath
          : `${node.corefilePath} -dns.port ${node.port}`;
        const text = script
          .replace(/^TOKEN=\S+/m, `TOKEN=${token}`)
          .replaceAll("/etc/etcdns/Corefile", conf)
          .replaceAll("/var/lib/etcd", `${dir}/data-${i}`)
          // etcd derives member and cluster IDs from the discovery URL string itself, so every
          // member must use the same URL: on real nodes each reaches its own etcdns at
          // 127.0.0.1:2382; here the nodes share a host, so all use the first node's.
          .replaceAll("http://127.0.0.1:2382/", `http://${IPS[0]}:2382/`)
          .replaceAll(",http://127.0.0.1:2379", "");
        const nodeScript = spawnCollecting(
          "bash",
          ["-c", `set -e\netcdns() { ${shellQuote(START)} "$@"; }\n${text}`],
          { env: { NODE_IP: ip, NO_COLOR: "1" } },
        );
        members.push({ ...nodeScript, name: `etcd at ${ip}`, clientUrl: `http://${ip}:2379` });
      }
      await waitHealthy(members);

      // One cluster of three, each member named after the slot its node claimed.
      const slots = new Map<string, string>();
      const backing = etcd.client();
      for (const n of [1, 2, 3]) {
        const v = JSON.parse((await getText(backing, `etcd${n}.tf.local.`))!);
        slots.set(`etcd${n}.tf.local`, v.ipv4);
      }
      assert.deepEqual([...slots.values()].sort(), [...IPS].sort());
      const list = await memberList(`http://${IPS[0]}:2379`);
      assert.equal(list.length, 3);
      for (const m of list) {
        assert.deepEqual(m.peerURLs, [`http://${slots.get(m.name)}:2380`], `member ${m.name}`);
      }
      // Step 3: show says complete.
      const shown = await runCommand(START, [
        "discovery",
        "show",
        token,
        "-conf",
        nodes[0].corefilePath,
      ], {
        env: { NODE_IP: IPS[0] },
      });
      assert.match(shown.stdout, /3 of 3 registered: complete/);
    } catch (err) {
      console.error(logs());
      for (const n of nodes) console.error(`--- etcdns :${n.port}\n${n.output.slice(-2000)}`);
      throw err;
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await Promise.all(nodes.map((n) => n.stop()));
      await etcd.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
