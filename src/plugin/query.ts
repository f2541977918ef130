/** The per-query context that flows down the plugin chain. */
import { ADVERTISED_UDP_SIZE } from "../dns/edns.ts";
import { type DnsMessage, fqdn, optOf, type OptRecord, type Question } from "../dns/message.ts";

/** The transport a query arrived on. */
export type Proto = "udp" | "tcp";

/** Called once the reply has been encoded for sending, with its size on the wire and rcode. */
export type SentHook = (q: QueryContext, reply: DnsMessage, size: number, rcode: number) => void;

/** One query on its way through a server block's plugin chain. */
export class QueryContext {
  /** The first question, as decoded. */
  readonly question: Question;
  /** The question's name, lowercased and fully qualified. */
  readonly qname: string;
  /** The question's type, e.g. "A". */
  readonly qtype: string;
  /** The question's class, e.g. "IN". */
  readonly qclass: string;
  /** The request's OPT record, if it has EDNS. */
  readonly opt: OptRecord | undefined;
  #startedAt = -1;
  #finishedAt = -1;
  /** The reply a plugin wrote, or null. The server encodes and sends it after the chain. */
  response: DnsMessage | null = null;
  /** The plugin that wrote the reply first ("" while none has, or when the server answered). */
  writer = "";
  /**
   * The server block's UDP size (the `bufsize` plugin, default 1232): what our OPT advertises
   * and the most a UDP reply may carry. The server sets it from the route.
   */
  bufsize: number = ADVERTISED_UDP_SIZE;
  /**
   * The largest size our OPT may echo: the `bufsize` plugin's when the block has one, else any.
   * CoreDNS echoes the client's size unless bufsize lowers it; the 1232 cap on reply bytes
   * above holds either way.
   */
  echoLimit = 65535;
  /** Set by `drop()`: the query gets no reply at all. */
  dropped = false;
  #sentHooks: SentHook[] | null = null;

  constructor(
    /** The decoded request. */
    readonly request: DnsMessage,
    /** The request's size on the wire, in bytes. */
    readonly requestSize: number,
    readonly proto: Proto,
    /** The client's address and port. */
    readonly remote: Deno.NetAddr,
    /** The local address and port the query came in on. */
    readonly local: Deno.NetAddr,
    /** The zone of the server block key that routed this query, e.g. "example.org.". */
    readonly zone: string,
    /** The listener, named as CoreDNS names servers in metrics: `dns://:53`, `dns://127.0.0.1:53`. */
    readonly server: string = serverLabel(local.hostname, local.port),
    /** The question's name as `fqdn` gives it, when the caller has it already (routing did). */
    qname?: string,
  ) {
    this.question = request.questions[0];
    this.qname = qname ?? fqdn(this.question.name);
    this.qtype = this.question.type;
    this.qclass = this.question.class ?? "IN";
    this.opt = optOf(request);
  }

  /**
   * The question's name as answer records spell it: lowercased, without the trailing dot ("."
   * for the root). The question's own string when it is already so spelled (the usual case),
   * which costs no new string and lets name compression match it at once.
   */
  get owner(): string {
    const qname = this.qname;
    if (qname === ".") return ".";
    const asked = this.question.name;
    return asked.length === qname.length - 1 && qname.startsWith(asked)
      ? asked
      : qname.slice(0, -1);
  }

  /** Whether the client set the DNSSEC OK bit. */
  get do(): boolean {
    return this.opt !== undefined && (this.opt.flags & 0x8000) !== 0;
  }

  /**
   * The largest UDP reply we send: min(max(512, the client's EDNS size), our `bufsize`). Never
   * more than we advertise, whatever the client claims (no amplification past it).
   */
  get udpSize(): number {
    const client = this.opt?.udpPayloadSize ?? 512;
    return Math.min(client > 512 ? client : 512, this.bufsize);
  }

  /** Sets the reply. A later write replaces an earlier one (e.g. loadbalance, cache). */
  write(msg: DnsMessage): void {
    this.response = msg;
  }

  /**
   * Sends no reply at all (acl's `drop`, ratelimit's `drop`): over UDP nothing is sent, over TCP
   * nothing is written for this query and the connection stays open. Return void after it.
   */
  drop(): void {
    this.dropped = true;
    this.response = null;
  }

  /**
   * `performance.now()` when the first plugin that measures asked (registered a sent hook or
   * read this), as CoreDNS's log and metrics take `time.Now()` when their ServeDNS starts; a
   * query nobody measures reads no clock.
   */
  get startedAt(): number {
    if (this.#startedAt < 0) this.#startedAt = performance.now();
    return this.#startedAt;
  }

  /** Milliseconds from `startedAt` to the reply's encoding (read in sent hooks). */
  get durationMs(): number {
    const end = this.#finishedAt < 0 ? performance.now() : this.#finishedAt;
    return end - this.startedAt;
  }

  /** Registers a hook that runs after the reply is sent (log, metrics); starts the clock. */
  onSent(hook: SentHook): void {
    if (this.#startedAt < 0) this.#startedAt = performance.now();
    (this.#sentHooks ??= []).push(hook);
  }

  /** Runs the sent hooks; the server calls this once, with the reply as encoded. */
  sent(reply: DnsMessage, size: number, rcode: number): void {
    const hooks = this.#sentHooks;
    if (hooks === null) return;
    this.#finishedAt = performance.now(); // one clock read shared by every hook
    for (const h of hooks) h(this, reply, size, rcode);
  }
}

/**
 * CoreDNS's name for a DNS listener (its metrics' `server` label): `dns://:53` for a wildcard
 * address, `dns://127.0.0.1:53` or `dns://[::1]:53` for a bound one.
 */
export function serverLabel(hostname: string, port: number): string {
  const wildcard = hostname === "" || hostname === "::" || hostname === "0.0.0.0";
  const host = wildcard ? "" : hostname.includes(":") ? `[${hostname}]` : hostname;
  return `dns://${host}:${port}`;
}
