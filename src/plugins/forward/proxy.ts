/**
 * Upstreams as forward sees them: a socket cache (shared/upstream.ts) plus a failure count that
 * in-band health checking maintains, as CoreDNS's forward does.
 *
 * An exchange error starts a probe loop on that upstream: a `. IN NS` query over the upstream's
 * transport, repeated every `health_check` interval while it fails, each failure adding one to
 * the upstream's fails; the first success resets fails to 0 and stops the loop. An upstream is
 * down when fails > max_fails. Any reply at all (even REFUSED or SERVFAIL) counts as healthy.
 */
import { encode, Flag } from "../../dns/message.ts";
import type { Resource } from "../../plugin/resources.ts";
import { Upstream } from "./upstream.ts";
import { randomId, type Transport } from "./exchange.ts";
import { healthcheckFailures } from "./metrics.ts";
import { pluginLogger } from "../../util/log.ts";
import { errorMessage } from "../../util/errors.ts";
import { escapeText } from "../../dns/present.ts";
import { listenToThreads, otherThreads, tellOtherThreads } from "../../plugin/shared_state.ts";

const log = pluginLogger("forward");

/** CoreDNS's health probe read timeout. */
const PROBE_TIMEOUT_MS = 1000;

/** How one upstream is probed. */
export interface ProbeOptions {
  /** Interval between probes while the upstream fails; 0 disables health checking. */
  intervalMs: number;
  /** The probe's transport: tcp with force_tcp, else udp. */
  transport: Transport;
  /** The probe's question name (CoreDNS `health_check ... domain`), default ".". */
  domain: string;
  /** Whether the probe sets RD (cleared by `no_rec`). */
  recursionDesired: boolean;
}

/** One upstream with its health state. */
export class Proxy {
  /** Consecutive failed health probes. */
  fails = 0;
  #probing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The probe in flight, awaited by close() so that nothing outlives it. */
  #inflight: Promise<boolean> | undefined;
  #closed = false;
  /** Hears every change of `fails` this thread's probes make (the pool shares it). */
  onFails: ((fails: number) => void) | null = null;

  constructor(readonly upstream: Upstream, readonly probe: ProbeOptions) {}

  /** `host:port`, the metrics label. */
  get label(): string {
    return this.upstream.label;
  }

  /** Whether health checking has marked this upstream down. max_fails 0 never marks it down. */
  down(maxFails: number): boolean {
    return maxFails > 0 && this.fails > maxFails;
  }

  /** Whether a probe loop is running (for tests). */
  get probing(): boolean {
    return this.#probing;
  }

  /** Starts the probe loop unless it is already running or health checking is off. */
  healthcheck(): void {
    if (this.#probing || this.#closed || this.probe.intervalMs <= 0) return;
    this.#probing = true;
    void this.#loop();
  }

  async #loop(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    this.#inflight = this.check();
    const ok = await this.#inflight;
    this.#inflight = undefined;
    if (ok || this.#closed) {
      this.#probing = false;
      return;
    }
    this.#timer = setTimeout(() => void this.#loop(), this.probe.intervalMs);
  }

  /** Sends one probe; records the result in `fails` and the metrics. */
  async check(): Promise<boolean> {
    const question = { name: this.probe.domain, type: "NS", class: "IN" };
    const query = encode({
      id: randomId(),
      type: "query",
      flags: this.probe.recursionDesired ? Flag.RD : 0,
      questions: [question],
      answers: [],
      authorities: [],
      additionals: [],
    });
    try {
      await this.upstream.exchange(query, question, this.probe.transport, PROBE_TIMEOUT_MS);
      if (this.fails !== 0) this.onFails?.(0);
      this.fails = 0;
      return true;
    } catch (err) {
      if (this.#closed) return false;
      healthcheckFailures.inc([this.label]);
      // One line per outage, not per probe: why the upstream fails (a refused TLS certificate
      // names the names it carries).
      if (this.fails === 0) {
        const scheme = this.upstream.tls ? "tls://" : "";
        log.warn(`health check of ${scheme}${this.label} failed: ${escapeText(errorMessage(err))}`);
      }
      this.fails++;
      this.onFails?.(this.fails);
      return false;
    }
  }

  /** Stops probing and closes the upstream's sockets; resolves once no probe is in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#probing = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.upstream.close();
    await this.#inflight;
  }
}

/** What a thread tells the others when its probes change an upstream's fails. */
interface SharedFails {
  /** The upstream's place in the pool (the same in every thread: one config, one order). */
  index: number;
  fails: number;
}

/**
 * The upstreams of one forward configuration: a Resource, so that the server closes sockets and
 * stops probes on shutdown, and a reload with the same upstreams keeps connections and health.
 *
 * With `workers N` each thread has its own pool (its own sockets), but health is the node's:
 * when one thread's probes mark an upstream down (or up again), the others on `channel` take
 * its fails, so a query that reaches another thread does not pay for finding out again.
 */
export class ProxyPool implements Resource {
  #stop: (() => void) | null = null;

  constructor(readonly proxies: readonly Proxy[], readonly channel: string | null = null) {}

  start(): Promise<void> {
    const channel = this.channel;
    if (channel === null) return Promise.resolve();
    this.proxies.forEach((p, index) => {
      p.onFails = (fails) => {
        if (otherThreads()) tellOtherThreads(channel, { index, fails } satisfies SharedFails);
      };
    });
    this.#stop = listenToThreads(channel, (v) => {
      const { index, fails } = v as SharedFails;
      const proxy = this.proxies[index];
      if (proxy) proxy.fails = fails;
    });
    return Promise.resolve();
  }

  /** Stops every probe loop and closes every socket. */
  async close(): Promise<void> {
    this.#stop?.();
    this.#stop = null;
    await Promise.all(this.proxies.map((p) => p.close()));
  }
}
