/**
 * Turns one request packet into one reply packet: the header checks CoreDNS makes before
 * routing, zone routing, the plugin chain, and the reply's EDNS and size.
 */
import {
  decode,
  type DnsMessage,
  Flag,
  fqdn,
  FullCodecNotLoaded,
  loadFullCodec,
  Opcode,
  opcodeOf,
  optOf,
  Rcode,
  rcodeOf,
  replyTo,
  setRcode,
} from "../dns/message.ts";
import { encodeWithin, finishEdns } from "../dns/edns.ts";
import { escapeText, presentName } from "../dns/present.ts";
import { type HandlerResult, PluginError } from "../plugin/plugin.ts";
import { errorMessage } from "../util/errors.ts";
import { logger } from "../util/log.ts";
import { type Proto, QueryContext } from "../plugin/query.ts";
import type { ZoneRouter } from "./router.ts";

const log = logger("etcdns");
const HEADER_SIZE = 12;
const TCP_MAX = 65535;

/** Where a packet came from and arrived. */
export interface PacketSource {
  proto: Proto;
  remote: Deno.NetAddr;
  local: Deno.NetAddr;
  /** The listener's name for metrics (`dns://:53`); derived from `local` when absent. */
  server?: string;
}

/**
 * Answers one packet. Returns the reply bytes, or null when the packet gets no reply
 * (shorter than a header, or itself a response). Never throws.
 */
export async function respond(
  packet: Uint8Array,
  source: PacketSource,
  router: ZoneRouter,
): Promise<Uint8Array | null> {
  return await answerPacket(packet, source, router);
}

/**
 * `respond` without a promise when the plugin chain answers synchronously, which is how the
 * listeners call it: a promise per packet is measurable at tens of thousands of queries per
 * second. Never throws.
 */
export function answerPacket(
  packet: Uint8Array,
  source: PacketSource,
  router: ZoneRouter,
): Uint8Array | null | Promise<Uint8Array | null> {
  if (packet.length < HEADER_SIZE) return null;
  if ((packet[2] & 0x80) !== 0) return null; // QR set: a response, never answer it

  let request: DnsMessage;
  try {
    request = decode(packet);
  } catch (err) {
    if (err instanceof FullCodecNotLoaded) {
      // The first query the fast path declines loads dns-packet; this one waits for it.
      return loadFullCodec().then(
        () => answerPacket(packet, source, router),
        () => headerOnlyReply(packet, Rcode.SERVFAIL),
      );
    }
    return headerOnlyReply(packet, Rcode.FORMERR);
  }

  const opcode = opcodeOf(request);
  if (opcode !== Opcode.QUERY && opcode !== Opcode.NOTIFY) {
    return errorReply(request, Rcode.NOTIMP);
  }
  if (request.questions.length !== 1) return errorReply(request, Rcode.FORMERR);
  const opt = optOf(request);
  if (opt) {
    if (optCount(request) > 1) return errorReply(request, Rcode.FORMERR);
    if (opt.ednsVersion !== 0) return errorReply(request, Rcode.BADVERS);
  }

  const qname = fqdn(request.questions[0].name);
  const route = router.match(qname);
  const q = new QueryContext(
    request,
    packet.length,
    source.proto,
    source.remote,
    source.local,
    route?.zone ?? ".",
    source.server,
    qname,
  );
  if (route?.bufsize !== undefined) q.bufsize = q.echoLimit = route.bufsize;
  if (!route || !route.chain) return finish(q, replyTo(request, Rcode.REFUSED));

  let result;
  try {
    result = route.chain.run(q);
  } catch (err) {
    return finishResult(q, failed(q, err));
  }
  if (result !== undefined && typeof result !== "number") {
    return result.then((r) => finishResult(q, r), (err) => finishResult(q, failed(q, err)));
  }
  return finishResult(q, result);
}

/** How many OPT records `msg` has (a loop: a filter made an array and a closure per query). */
function optCount(msg: DnsMessage): number {
  let n = 0;
  for (let i = 0; i < msg.additionals.length; i++) if (msg.additionals[i].type === "OPT") n++;
  return n;
}

/** The rcode for a handler that threw. */
function failed(q: QueryContext, err: unknown): number {
  log.debug(`${presentName(q.qname)} ${q.qtype}: ${escapeText(errorMessage(err))}`);
  return err instanceof PluginError ? err.rcode : Rcode.SERVFAIL;
}

function finishResult(
  q: QueryContext,
  result: HandlerResult,
): Uint8Array | null | Promise<Uint8Array | null> {
  if (q.dropped && q.response === null) return null; // a plugin chose to send nothing
  const reply = q.response ??
    replyTo(q.request, typeof result === "number" ? result : Rcode.SERVFAIL);
  return finish(q, reply);
}

function finish(
  q: QueryContext,
  reply: DnsMessage,
): Uint8Array | null | Promise<Uint8Array | null> {
  try {
    reply.id = q.request.id;
    const rcode = rcodeOf(reply);
    finishEdns(reply, q.opt, q.echoLimit);
    const wire = encodeWithin(reply, q.proto === "udp" ? q.udpSize : TCP_MAX);
    reply.flags = (wire[2] << 8) | wire[3]; // truncation may have set TC
    q.sent(reply, wire.length, rcode);
    return wire;
  } catch (err) {
    if (err instanceof FullCodecNotLoaded) {
      // A record type the fast path does not write: load dns-packet and encode again
      // (finishEdns gives the same OPT twice).
      return loadFullCodec().then(
        () => finish(q, reply),
        () => headerOnlyBytes(q.request.id, q.request.flags, Rcode.SERVFAIL),
      );
    }
    // A plugin wrote something we cannot encode; the client still deserves an answer.
    log.error(
      `cannot encode the reply to ${presentName(q.qname)} ${q.qtype}: ${
        escapeText(errorMessage(err))
      }`,
    );
    const fallback = replyTo(q.request, Rcode.SERVFAIL);
    finishEdns(fallback, q.opt, q.echoLimit);
    const wire = encodeWithin(fallback, 512);
    q.sent(fallback, wire.length, Rcode.SERVFAIL);
    return wire;
  }
}

function errorReply(request: DnsMessage, rcode: number): Uint8Array {
  const reply = replyTo(request, Rcode.NOERROR);
  const opt = optOf(request);
  finishEdns(reply, opt);
  setRcode(reply, rcode);
  try {
    return encodeWithin(reply, 512);
  } catch {
    return headerOnlyBytes(request.id, request.flags, rcode);
  }
}

/** A reply made from the raw header alone, for packets that do not decode. */
function headerOnlyReply(packet: Uint8Array, rcode: number): Uint8Array {
  const id = (packet[0] << 8) | packet[1];
  const flags = (packet[2] << 8) | packet[3];
  return headerOnlyBytes(id, flags, rcode);
}

function headerOnlyBytes(id: number, requestFlags: number, rcode: number): Uint8Array {
  const flags = Flag.QR | (requestFlags & (Flag.RD | (0xf << 11))) | (rcode & 0xf);
  const out = new Uint8Array(HEADER_SIZE);
  out[0] = id >> 8;
  out[1] = id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  return out;
}
