// The Bayeux 1.0 messages as cometkit/bayeux reads and writes them (CometD's "The Bayeux Protocol"
// reference, §3-§5), and the one table that maps a refused message to a typed CometError and its
// recovery. No I/O here.
import type { CometErrorType } from '../errors.ts';

export const HANDSHAKE = '/meta/handshake';
export const CONNECT = '/meta/connect';
export const DISCONNECT = '/meta/disconnect';
export const SUBSCRIBE = '/meta/subscribe';
export const UNSUBSCRIBE = '/meta/unsubscribe';

/** [Bayeux §5.1] What the server tells the client to do next (on handshake and connect replies). */
export interface Advice {
  reconnect?: 'retry' | 'handshake' | 'none';
  /** How long the server may hold a /meta/connect, in milliseconds. */
  timeout?: number;
  /** How long to wait before the next /meta/connect, in milliseconds. */
  interval?: number;
  /** CometD: another session of this browser holds a /meta/connect already (its interval says how often to poll). */
  'multiple-clients'?: boolean;
}

/** One Bayeux message, in either direction. `ext` is where extensions (ack, auth tokens) put their fields. */
export interface BayeuxMessage {
  channel: string;
  /** A string in Bayeux; some servers echo numbers. */
  id?: string | number;
  clientId?: string;
  data?: unknown;
  successful?: boolean;
  error?: string;
  advice?: Advice;
  ext?: Record<string, unknown>;
  subscription?: string | string[];
  connectionType?: string;
  supportedConnectionTypes?: string[];
  version?: string;
  minimumVersion?: string;
  [field: string]: unknown;
}

/** Whether a decoded value has the shape of a message (a channel name). */
export const isMessage = (value: unknown): value is BayeuxMessage =>
  typeof value == 'object' && value !== null && typeof (value as { channel?: unknown }).channel == 'string';

/** [Bayeux §3.3] `code:args:message`, for example `402::session_unknown` or `401:abc:Unknown client`. */
export function parseError(error = ''): { code: number; message: string } {
  const match = /^(\d{3}):[^:]*:(.*)$/s.exec(error);
  return match ? { code: Number(match[1]), message: match[2] ?? '' } : { code: 0, message: error };
}

/**
 * Whether a refusal means the server does not know our clientId: the session expired or the server
 * restarted. Faye says `401::Unknown client`; CometD says `402::session_unknown` (in Faye 402 is a
 * missing parameter, so the message decides); both advise `reconnect: handshake` on a connect reply.
 */
export function isUnknownClient(reply: BayeuxMessage): boolean {
  const { code, message } = parseError(reply.error);
  return code == 401 || /unknown/i.test(message) || (reply.channel == CONNECT && reply.advice?.reconnect == 'handshake');
}

/**
 * What a refused reply becomes, by its channel (unknown clients are handled before this):
 * - /meta/handshake: `handshake-refused` (403::handshake_denied, a failed authentication extension);
 *   retried only when the server's advice says `handshake` or `retry`
 * - /meta/subscribe: `subscribe-refused` (403::subscribe_denied, 405 invalid channel): not retried
 * - a publish: `publish-refused` (403::publish_denied, 407 publish failed): not retried
 * - /meta/connect, /meta/unsubscribe and anything else: `protocol`, retried
 */
export function refusalType(channel: string): CometErrorType {
  if (channel == HANDSHAKE) return 'handshake-refused';
  if (channel == SUBSCRIBE) return 'subscribe-refused';
  if (!channel.startsWith('/meta/')) return 'publish-refused';
  return 'protocol';
}

/**
 * [Bayeux §2.2] Whether a message on `channel` goes to a subscription of `pattern`: the same name,
 * `/a/*` for one more segment, `/a/**` for any number.
 */
export function channelMatches(pattern: string, channel: string): boolean {
  if (pattern == channel) return true;
  const wildcard = /\/\*\*?$/.exec(pattern)?.[0];
  if (!wildcard) return false;
  const prefix = pattern.slice(0, -wildcard.length + 1);
  if (!channel.startsWith(prefix) || channel.length == prefix.length) return false;
  return wildcard == '/**' || !channel.slice(prefix.length).includes('/');
}
