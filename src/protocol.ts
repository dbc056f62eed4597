// The protocol layer of PROTOCOL.md: what the values a transport decodes mean and what the client
// sends upstream. No I/O here: transports move bytes, this names them. `check` turns a value that is
// not of the documented form into `undefined`, so that the caller reports a typed error instead of
// crashing on it.
import { CometError } from './errors.ts';
import type { Platform } from './platform.ts';

/** §3.1: makes the values of the `t` parameter that keeps caches from answering a request. */
export function cacheBuster(platform: Platform): () => string {
  let count = 0;
  return () => `${platform.Date.now().toString(36)}${count++}`;
}

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
  type: 'handshake';
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
  errors?: { id: number; code: string }[];
}

/** Every value the client reads from the server, by its `type`. */
export type Answer = DownstreamFrame | Handshake | Ack;

type Loose = Record<string, unknown>;

/** A non-negative integer: sequence numbers, message ids, counts. */
const count = (member: unknown) => Number.isInteger(member) && (member as number) >= 0;
const positive = (member: unknown) => typeof member == 'number' && member > 0;

/**
 * The value as the frame, handshake or acknowledgement it is, or `undefined` when it is none of
 * those well-formed. A type this version does not know passes as is, to be ignored by the caller
 * (§2: later versions add members and frames).
 */
export function check(value: unknown): Answer | undefined {
  // Object(): members of null, undefined and primitives read as undefined, never throw.
  const frame = Object(value) as Loose;
  const { type, seq, errors } = frame;
  return typeof type == 'string' && (
    type == 'open' ? count(seq) && positive(frame.heartbeatMs)
    : type == 'msg' ? count(seq) && positive(seq) && typeof frame.channel == 'string' && frame.data !== undefined
    : type == 'gap' ? count(frame.from) && count(frame.to) && (frame.to as number) >= (frame.from as number)
    : type == 'close' ? typeof frame.code == 'string' && ['now', 'backoff', 'handshake', 'none'].includes(frame.reconnect as string)
    : type == 'handshake' ? frame.v === 1 && /^[\w-]{22,64}$/.test(frame.session as string) && Array.isArray(frame.transports) &&
      count(seq) && count(frame.retryMs) && [frame.heartbeatMs, frame.holdMs, frame.maxBatchMessages, frame.maxBodyBytes].every(positive)
    : type == 'ack' ? count(frame.ack) && (errors === undefined || (Array.isArray(errors) && errors.every((error: Loose | null) => count(error?.id))))
    : true) ? (value as Answer) : undefined;
}

/**
 * One upstream message serialised without its `id`, which the outbox adds when the message enters
 * a batch (ids are given per session, in sending order). Throws a `publish-refused` error (code
 * `bad-data`, the reason as its cause) when `data` cannot be sent: not JSON-serialisable, or
 * holding a key the server refuses (§3.3 `forbidden-key`).
 */
export function messageBody(type: UpstreamMessage['type'], channel: string, data?: unknown): string {
  let json: string | undefined;
  try {
    json = type == 'publish' ? JSON.stringify(data) : '';
  } catch {
    // not serialisable (a cycle, a BigInt): refused below
  }
  // JSON.stringify(undefined) is undefined: a publish without data is refused whole (§6.2). Every
  // `"` inside a JSON string is escaped, so a key is a `"` right after `{` or `,`.
  if (json === undefined || /[{,]"(__proto__|constructor|prototype)":/.test(json)) {
    throw new CometError('publish-refused', 'bad-data', { code: 'bad-data', cause: data });
  }
  return `"type":"${type}","channel":${JSON.stringify(channel)}${json && ',"data":' + json}`;
}
