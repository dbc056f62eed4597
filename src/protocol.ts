// The protocol layer of PROTOCOL.md: what the values a transport decodes mean, what the client sends
// upstream, and the URLs of each resource. No I/O here: transports move bytes, this names them.
// Every check below turns a value that is not of the documented form into `undefined`, so that the
// caller reports a typed `malformed` error instead of crashing on it.
import type { OneShotResult } from '../transports/request.ts';
import { withParams } from '../transports/shared.ts';

/** PROTOCOL.md §8.1: what the client does after a `close` frame. */
export type Reconnect = 'now' | 'backoff' | 'handshake' | 'none';

/** PROTOCOL.md §5.1, the frames of a downstream response. */
export type DownstreamFrame =
  | { type: 'open'; seq: number; heartbeatMs: number }
  | { type: 'msg'; seq: number; channel: string; data: unknown }
  | { type: 'hb' }
  | { type: 'gap'; from: number; to: number }
  | { type: 'close'; code: string; reconnect: Reconnect; retryMs?: number };

export type MessageFrame = Extract<DownstreamFrame, { type: 'msg' }>;
export type CloseFrame = Extract<DownstreamFrame, { type: 'close' }>;

/** PROTOCOL.md §6.1, one upstream message. */
export type UpstreamMessage =
  | { id: number; type: 'subscribe' | 'unsubscribe'; channel: string }
  | { id: number; type: 'publish'; channel: string; data: unknown };

/** PROTOCOL.md §4, the handshake answer, with the members the client relies on. */
export interface Handshake {
  session: string;
  seq: number;
  transports: string[];
  heartbeatMs: number;
  holdMs: number;
  retryMs: number;
  maxBatchMessages: number;
  maxBodyBytes: number;
}

/** PROTOCOL.md §6.2, the answer to an upstream send. */
export interface Ack {
  type: 'ack';
  ack: number;
  errors: { id: number; code: string }[];
}

type Loose = Record<string, unknown>;

/** The value as an object of members when it is a JSON object (not null, not an array). */
const members = (value: unknown): Loose | undefined =>
  value && typeof value == 'object' && !Array.isArray(value) ? (value as Loose) : undefined;
/** A non-negative integer: sequence numbers, message ids, counts. */
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isPositive = (value: unknown): value is number => typeof value == 'number' && value > 0;

/**
 * The frame a value is, or `undefined` when it is not a well-formed frame. A frame of a type this
 * version does not know is returned as is and ignored by the caller (§2: later versions add members).
 */
export function toFrame(value: unknown): DownstreamFrame | undefined {
  const frame = members(value) ?? {};
  const { type } = frame;
  return typeof type == 'string' && (
    type == 'open' ? isCount(frame.seq) && isPositive(frame.heartbeatMs)
    : type == 'msg' ? isPositive(frame.seq) && isCount(frame.seq) && typeof frame.channel == 'string' && 'data' in frame
    : type == 'gap' ? isCount(frame.from) && isCount(frame.to) && frame.from <= frame.to
    : type == 'close' ? typeof frame.code == 'string' && ['now', 'backoff', 'handshake', 'none'].includes(frame.reconnect as string)
    : true) ? (frame as DownstreamFrame) : undefined;
}

/** The handshake an answer is (§4), with the server's defaults for limits it leaves out. */
export function toHandshake(value: unknown): Handshake | undefined {
  const answer = { holdMs: 25000, retryMs: 1000, maxBatchMessages: 100, maxBodyBytes: 65536, ...members(value) } as Loose & Handshake;
  return answer.type == 'handshake' && answer.v === 1 && /^[\w-]{22,64}$/.test(answer.session) && Array.isArray(answer.transports) &&
    isCount(answer.seq) && isCount(answer.retryMs) && [answer.heartbeatMs, answer.maxBatchMessages, answer.maxBodyBytes].every(isPositive)
    ? answer : undefined;
}

/** The answer to a send: an acknowledgement, or a `close` frame for an unknown session (§9). */
export function toAnswer(value: unknown): Ack | CloseFrame | undefined {
  const answer = members(value);
  if (answer?.type == 'ack') {
    const { ack, errors = [] } = answer;
    return isCount(ack) && Array.isArray(errors) && errors.every((error) => isCount(members(error)?.id))
      ? { type: 'ack', ack, errors: errors as Ack['errors'] }
      : undefined;
  }
  const frame = toFrame(value);
  return frame?.type == 'close' ? frame : undefined;
}

/**
 * One upstream message serialised without its `id`, which the outbox adds when the message enters
 * a batch (ids are given per session, in sending order). Throws when `data` cannot be sent: not
 * JSON-serialisable, or holding a key the server refuses (§3.3 `forbidden-key`).
 */
export function messageBody(type: UpstreamMessage['type'], channel: string, data?: unknown): string {
  const json = type == 'publish' ? JSON.stringify(data, (key, member: unknown) => {
    if (/^(__proto__|constructor|prototype)$/.test(key)) throw new TypeError(key);
    return member;
  }) as string | undefined : '';
  // JSON.stringify(undefined) is undefined: a publish without data is refused whole (§6.2).
  if (json === undefined) throw new TypeError('data');
  return `"type":"${type}","channel":${JSON.stringify(channel)}${json && ',"data":' + json}`;
}

/** `{endpoint}/{resource}?name=value&...`, parameters percent-encoded (§3.1). */
export const resourceUrl = (endpoint: string, resource: string, query: Readonly<Record<string, string | number>>): string =>
  withParams(endpoint + '/' + resource, query);

/** The scheme and authority of an absolute URL, lower-cased; `undefined` for a relative one. */
export const originOf = (url: string): string | undefined => /^https?:\/\/[^/?#]+/i.exec(url)?.[0].toLowerCase();

/** The `retryMs` of a refusal's error body (§6.4 429, §9 503): the floor of the next retry's delay. */
export const retryAfter = (result: OneShotResult): number | undefined =>
  result.ok ? undefined : (result.value as { retryMs?: number } | null | undefined)?.retryMs;
