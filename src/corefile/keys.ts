/**
 * Server block keys: `[dns://|tls://]zone[:port]` to normalised `ServerKey`s, as CoreDNS reads
 * them.
 */
import { CorefileError, type Position, type ServerKey, type Transport } from "./types.ts";
import { reverseZonesOf } from "./reverse.ts";

export { reverseZonesOf };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** The default port of DNS over TLS (RFC 7858), as CoreDNS's `tls://` keys default to it. */
export const TLS_PORT = 853;

/** Schemes CoreDNS knows but etcdns does not serve, with what they are. */
const OTHER_SCHEMES: Record<string, string> = {
  https: "DNS over HTTPS",
  https3: "DNS over HTTP/3",
  grpc: "DNS over gRPC",
  quic: "DNS over QUIC",
};
/**
 * Normalises one written key into its server keys: the zone lowercased and fully qualified, the
 * port defaulting to `dnsPort` (853 for `tls://`, as in CoreDNS, where `-dns.port` only changes
 * the plain DNS port). A CIDR zone gives one key per reverse zone it covers.
 */
export function normalizeKey(raw: string, pos: Position, dnsPort: number): ServerKey[] {
  const fail: (detail: string) => never = (detail) => {
    throw new CorefileError(pos, `server block key '${raw}': ${detail}`);
  };
  let rest = raw;
  let transport: Transport = "dns";
  const scheme = SCHEME.exec(rest);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    if (name === "tls") transport = "tls";
    else if (name !== "dns") {
      const what = OTHER_SCHEMES[name] ? ` (${OTHER_SCHEMES[name]})` : "";
      fail(
        `transport '${name}://'${what} is not supported; ` +
          "write dns:// (or no prefix) for DNS over UDP and TCP, or tls:// for DNS over TLS",
      );
    }
    rest = rest.slice(scheme[0].length);
  }
  if (rest.includes("://")) fail("expected [dns://|tls://]zone[:port]");
  if (/[{}]/.test(rest)) {
    fail("a key cannot contain '{' or '}'; put spaces around the '{' that opens the block");
  }

  // A port follows the last colon, except that IPv6 networks hold colons before their `/`.
  let zone = rest;
  let portText: string | null = null;
  const slash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", slash + 1);
  if (colon >= 0 && (slash >= 0 || rest.lastIndexOf(":") === colon)) {
    zone = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
  }

  const defaultPort = transport === "tls" ? TLS_PORT : dnsPort;
  const port = portText === null ? defaultPort : parsePort(portText, fail);
  if (zone === "") fail(`the zone is empty; write '.:${port}' for the root zone`);
  if (zone.includes("/")) {
    const zones = reverseZonesOf(zone);
    if (!zones) {
      fail(`'${zone}' is not a valid CIDR network (expected e.g. 10.0.0.0/8 or fd00::/8)`);
    }
    return zones.map((z) => ({ transport, zone: z, port, raw }));
  }
  if (zone.includes(":")) {
    fail(`'${zone}' is not a zone; an IPv6 network needs a prefix length (e.g. fd00::/8)`);
  }
  return [{ transport, zone: normalizeZone(zone, fail), port, raw }];
}

function parsePort(text: string, fail: (detail: string) => never): number {
  if (text === "") fail("expected a port after ':'");
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) fail(`port '${text}' is not a number from 1 to 65535`);
  return port;
}

/** Lowercases and fully qualifies `zone`, checking that it is a well-formed domain name. */
function normalizeZone(zone: string, fail: (detail: string) => never): string {
  if (zone === ".") return ".";
  const name = (zone.endsWith(".") ? zone : zone + ".").toLowerCase();
  if (name.length > 254) fail(`the zone is longer than 253 characters`);
  const labels = name.slice(0, -1).split(".");
  for (const label of labels) {
    if (label === "") fail(`'${zone}' has an empty label (two dots in a row?)`);
    if (label.length > 63) fail(`label '${label}' is longer than 63 characters`);
  }
  return name;
}
