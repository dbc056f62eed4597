// The protocol layer of PROTOCOL.md: what the values a transport decodes mean, what the client sends
// upstream, and the URLs of each resource. No I/O here: transports move bytes, this names them.
// Every check below turns a value that is not of the documented form into `undefined`, so that the
// caller reports a typed `malformed` error instead of crashing on it.

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

const isObject = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** A non-negative integer: sequence numbers, message ids, counts. */
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && value >= 0 && value % 1 === 0;
const isPositive = (value: unknown): value is number => typeof value === 'number' && value > 0;
const reconnects: readonly unknown[] = ['now', 'backoff', 'handshake', 'none'];

/**
 * The frame a value is, or `undefined` when it is not a well-formed frame. A frame of a type this
 * version does not know is returned as is and ignored by the caller (§2: later versions add members).
 */
export function toFrame(value: unknown): DownstreamFrame | undefined {
  if (!isObject(value)) return undefined;
  const frame = value as DownstreamFrame;
  switch (frame.type) {
    case 'open':
      return isCount(frame.seq) && isPositive(frame.heartbeatMs) ? frame : undefined;
    case 'msg':
      return frame.seq > 0 && isCount(frame.seq) && typeof frame.channel == 'string' && 'data' in frame ? frame : undefined;
    case 'gap':
      return isCount(frame.from) && isCount(frame.to) && frame.from <= frame.to ? frame : undefined;
    case 'close':
      return typeof frame.code == 'string' && reconnects.includes(frame.reconnect) ? frame : undefined;
    default:
      return typeof value.type == 'string' ? (value as DownstreamFrame) : undefined;
  }
}

/** The handshake an answer is (§4), with the server's defaults for limits it leaves out. */
export function toHandshake(value: unknown): Handshake | undefined {
  if (!isObject(value) || value.type !== 'handshake' || value.v !== 1) return undefined;
  const answer = Object.assign({ holdMs: 25000, retryMs: 1000, maxBatchMessages: 100, maxBodyBytes: 65536 }, value) as Loose & Handshake;
  return /^[\w-]{22,64}$/.test(answer.session) && isCount(answer.seq) && Array.isArray(answer.transports) &&
    isPositive(answer.heartbeatMs) && isCount(answer.retryMs) && isPositive(answer.maxBatchMessages) && isPositive(answer.maxBodyBytes)
    ? answer
    : undefined;
}

/** The answer to a send: an acknowledgement, or a `close` frame for an unknown session (§9). */
export function toAnswer(value: unknown): Ack | CloseFrame | undefined {
  if (isObject(value) && value.type === 'ack' && isCount(value.ack)) {
    const errors = value.errors ?? [];
    return Array.isArray(errors) && errors.every((error) => isObject(error) && isCount(error.id))
      ? { type: 'ack', ack: value.ack, errors: errors as Ack['errors'] }
      : undefined;
  }
  const frame = toFrame(value);
  return frame?.type === 'close' ? frame : undefined;
}

/**
 * One upstream message serialised without its `id`, which the outbox adds when the message enters
 * a batch (ids are given per session, in sending order). Throws when `data` cannot be sent: not
 * JSON-serialisable, or holding a key the server refuses (§3.3 `forbidden-key`).
 */
export function messageBody(type: UpstreamMessage['type'], channel: string, data?: unknown): string {
  const rest = type === 'publish'
    ? ',"data":' + JSON.stringify(data, (key, member: unknown) => {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new TypeError(key);
      return member;
    })
    : '';
  // JSON.stringify(undefined) is undefined: a publish without data is refused whole (§6.2).
  if (rest === ',"data":undefined') throw new TypeError('data');
  return `"type":"${type}","channel":${JSON.stringify(channel)}${rest}`;
}

/** `{endpoint}/{resource}?name=value&...`, parameters percent-encoded (§3.1). */
export function resourceUrl(endpoint: string, resource: string, query: Record<string, string | number>): string {
  return `${endpoint}/${resource}?` + Object.keys(query).map((name) => `${name}=${encodeURIComponent(query[name] ?? '')}`).join('&');
}

/** The scheme and authority of an absolute URL, lower-cased; `undefined` for a relative one. */
export function originOf(url: string): string | undefined {
  return /^https?:\/\/[^/?#]+/i.exec(url)?.[0].toLowerCase();
}
