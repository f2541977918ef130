/**
 * docs/dns-discovery.md, run on loopback: three etcdns nodes with the page's Corefile claim
 * etcd1..etcd3 and publish `_etcd-server._tcp` / `_etcd-client._tcp` SRV records; then three
 * real etcd members bootstrap a cluster from those records with `--discovery-srv tf.local`.
 *
 * etcd finds DNS through /etc/resolv.conf, so each member runs in its own mount namespace
 * (`unshare -m`) with a resolv.conf naming its node, bind-mounted over the real one; nothing
 * outside the member sees it. That part needs root; without it, it is skipped with a message.
 */
import assert from "node:assert/strict";
import { ETCD_BIN, startEtcd } from "../helpers/etcd.ts";
import { digShortAt } from "../helpers/dig.ts";
import { type MemberProcess, waitHealthy } from "../helpers/etcd_member.ts";
import { type EtcdnsProcess, ROOT } from "../helpers/etcdns.ts";
import { startNodes } from "../helpers/loopback_nodes.ts";
import { spawnCollecting, type Spawned } from "../helpers/spawn.ts";
import { waitFor } from "../helpers/wait.ts";

/** The node (and etcd member) addresses: three loopback addresses of their own. */
const IPS = ["127.0.57.11", "127.0.57.12", "127.0.57.13"];

/** The page's Corefile, pointed at the test etcd, each node on its own loopback address. */
function docCorefile(endpoint: string): string {
  const doc = Deno.readTextFileSync(`${ROOT}docs/dns-discovery.md`);
  const corefile = /```corefile\n([\s\S]*?)```/.exec(doc)![1];
  assert.match(corefile, /endpoint http:\/\/10\.0\.0\.10:2379\n/);
  // The page binds loopback and the node's private address; here each node has its own
  // loopback address instead.
  assert.match(corefile, /^ {4}bind 127\.0\.0\.1 10\.0\.0\.21 .*\n/m);
  return corefile
    .replace("endpoint http://10.0.0.10:2379", `endpoint ${endpoint}\n        address {$NODE_IP}`)
    .replace(/^ {4}bind .*\n/m, "    bind {$NODE_IP}\n");
}

/** etcd's version, e.g. [3, 4, 23]. */
function etcdVersion(): number[] {
  const out = new Deno.Command(ETCD_BIN, { args: ["--version"], stdout: "piped" }).outputSync();
  const m = /etcd Version: (\d+)\.(\d+)\.(\d+)/.exec(new TextDecoder().decode(out.stdout));
  return m ? m.slice(1).map(Number) : [0, 0, 0];
}

function canUnshare(): boolean {
  try {
    return new Deno.Command("unshare", {
      args: ["-m", "sh", "-c", "mount --bind /dev/null /etc/hostname"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("dns discovery: three nodes publish SRV, and etcd bootstraps from it", async (t) => {
  const etcd = await startEtcd();
  const nodes: EtcdnsProcess[] = [];
  const dir = await Deno.makeTempDir({ prefix: "etcdns-discovery-" });
  const members: (Spawned & MemberProcess)[] = [];
  try {
    nodes.push(...await startNodes(docCorefile(etcd.endpoint), IPS));

    await t.step("dig SRV _etcd-server._tcp.tf.local lists all three with port 2380", async () => {
      const want = [
        "0 10 2380 etcd1.tf.local.",
        "0 10 2380 etcd2.tf.local.",
        "0 10 2380 etcd3.tf.local.",
      ];
      for (const [i, node] of nodes.entries()) {
        const srv = await waitFor(
          `three SRV records from node ${IPS[i]}`,
          async () => {
            const a = (await digShortAt(IPS[i], node.port, "SRV", "_etcd-server._tcp.tf.local"))
              .sort();
            return a.length === 3 ? a : null;
          },
          20_000,
          100,
        );
        assert.deepEqual(srv, want);
      }
      const client = await digShortAt(IPS[0], nodes[0].port, "SRV", "_etcd-client._tcp.tf.local");
      assert.deepEqual(client.map((l) => l.split(" ")[2]), ["2379", "2379", "2379"]);
      // Each name is one node's address; together they are the three nodes.
      const addresses = [];
      for (const n of [1, 2, 3]) {
        addresses.push(...await digShortAt(IPS[0], nodes[0].port, `etcd${n}.tf.local`, "A"));
      }
      assert.deepEqual(addresses.sort(), [...IPS].sort());
    });

    const privileged = nodes.every((n) => n.port === 53) && canUnshare();
    const [major, minor] = etcdVersion();
    // etcd 3.4 stops when the _etcd-server-ssl._tcp lookup fails, even with _etcd-server._tcp
    // records present (etcd issue 11321); 3.5 takes whichever of the two resolves.
    const modern = major > 3 || (major === 3 && minor >= 5);
    if (!privileged) {
      console.log(
        "skipped: booting etcd from the SRV records needs root (port 53 and unshare -m for a " +
          "private resolv.conf)",
      );
    } else if (!modern) {
      console.log(
        `skipped: booting etcd from the SRV records needs etcd 3.5 or newer; this is ` +
          `${major}.${minor}, which requires an _etcd-server-ssl._tcp record too (etcd issue 11321)`,
      );
    }
    await t.step({
      name: "three etcd members bootstrap one cluster with --discovery-srv tf.local",
      ignore: !privileged || !modern,
      fn: async () => {
        for (const [i, ip] of IPS.entries()) {
          const resolv = `${dir}/resolv-${i}.conf`;
          await Deno.writeTextFile(resolv, `nameserver ${ip}\n`);
          // The doc's command, with this member's address.
          const args = [
            "-m",
            "sh",
            "-c",
            'mount --bind "$0" /etc/resolv.conf && exec "$@"',
            resolv,
            ETCD_BIN,
            "--name",
            `m${i + 1}`,
            "--data-dir",
            `${dir}/data-${i}`,
            "--discovery-srv",
            "tf.local",
            "--initial-cluster-token",
            "tf-etcd",
            "--initial-cluster-state",
            "new",
            "--initial-advertise-peer-urls",
            `http://${ip}:2380`,
            "--listen-peer-urls",
            `http://${ip}:2380`,
            "--advertise-client-urls",
            `http://${ip}:2379`,
            "--listen-client-urls",
            `http://${ip}:2379`,
          ];
          const member = spawnCollecting("unshare", args);
          members.push({ ...member, name: `etcd m${i + 1}`, clientUrl: `http://${ip}:2379` });
        }
        const logs = () =>
          members.map((m) => `--- ${m.name}:\n${m.output().slice(-3000)}`).join("\n");
        try {
          await waitHealthy(members, 45_000);
          // Every member has published its name once the list shows all three names.
          const list = await waitFor(
            "three named members",
            async () => {
              const r = await fetch(`http://${IPS[0]}:2379/v3/cluster/member/list`, {
                method: "POST",
                body: "{}",
              });
              const l = await r.json() as { members: { name?: string; peerURLs: string[] }[] };
              return l.members.filter((m) => m.name).length === 3 ? l : null;
            },
            20_000,
            200,
          );
          const peers = list.members.flatMap((m) => m.peerURLs).sort();
          assert.deepEqual(peers, [
            "http://etcd1.tf.local:2380",
            "http://etcd2.tf.local:2380",
            "http://etcd3.tf.local:2380",
          ]);
          assert.deepEqual(list.members.map((m) => m.name).sort(), ["m1", "m2", "m3"]);
          console.log(
            `etcd cluster of ${list.members.length} bootstrapped from etcdns's SRV records`,
          );
        } catch (err) {
          throw new Error(`${err}\n${logs()}`);
        }
      },
    });
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await Promise.all(nodes.map((n) => n.stop()));
    await etcd.close();
    await Deno.remove(dir, { recursive: true });
  }
});
