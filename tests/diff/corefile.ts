/** The Corefile CoreDNS and etcdns both run in the differential suite. */

/** The Corefile both servers run; {P0}.. are the block ports, the rest the upstreams. */
export function corefile(
  hosts: string,
  dm: number,
  dead: number,
  hole: number,
  crafted: number,
): string {
  return `.:{P0} {
    hosts ${hosts}
}
.:{P1} {
    hosts ${hosts} {
        fallthrough
    }
    forward . 127.0.0.1:${dm}
}
example.test:{P2} 10.0.0.0/8:{P2} {
    hosts ${hosts} example.test 10.0.0.0/8 {
        ttl 60
        fallthrough sub.example.test
    }
    forward . 127.0.0.1:${dm}
}
.:{P3} {
    cache 30
    forward . 127.0.0.1:${dm}
}
.:{P4} {
    forward . 127.0.0.1:${dead}
}
.:{P5} {
    forward . 127.0.0.1:${hole}
}
crafted.test:{P6} {
    cache
    forward . 127.0.0.1:${crafted}
}
`;
}

export const BLOCKS = [
  "hosts",
  "hosts+fallthrough",
  "hosts+zones+ttl",
  "cache+forward",
  "dead",
  "blackhole",
  "cache+crafted",
];

export function withPorts(text: string, ports: number[]): string {
  return ports.reduce((t, p, i) => t.replaceAll(`{P${i}}`, String(p)), text);
}
