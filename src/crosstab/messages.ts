// What the pages of cross-tab sharing (src/crosstab.ts) say to each other over their
// BroadcastChannel, and the takeover's first step, the one request a new leader makes before its
// connection continues the session: the last upstream batch sent again with its ids.
import type { CometError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { check } from '../protocol.ts';
import type { ConnectionEvents, ConnectionOptions, Resume } from '../types.ts';
import { fetchJson } from '../../transports/request.ts';

/** What cross-tab sharing needs of the platform, beyond `Platform` (absent: a connection per page). */
export interface TabPlatform extends Platform {
  readonly navigator?: { readonly locks?: LockManager | undefined } | undefined;
  readonly BroadcastChannel?: typeof BroadcastChannel | undefined;
  readonly location?: { readonly href: string } | undefined;
}

/** An error as it travels between pages: type, message, the rest (no `cause`: it may not clone). */
export type Flat = [CometError['type'], string, object];

export const flat = ({ type, message, ...rest }: CometError): Flat => [type, message, { ...rest, cause: undefined }];

/** The last upstream batch: its first id, the publish keys of its messages (in order), its JSON. */
export type Batch = [base: number, keys: (string | undefined)[], json: string];

/** Said once through the logger where Web Locks or BroadcastChannel is missing or refused. */
export const alone = 'cross-tab sharing unavailable: a connection per page';

/** A publish whose data does not clone: refused like data the server cannot take. */
export const badData: Flat = ['publish-refused', 'bad-data', { code: 'bad-data' }];

/** The messages between pages; the second member is the sender's page id. */
export type Message =
  | ['h', string, string[]] // hello: the sender's channels, all of them
  | ['s' | 'u', string, string] // the sender subscribes / unsubscribes a channel
  | ['p', string, string, string, unknown] // a publish: key, channel, data
  | ['a', string, string, Flat?] // a publish settled (by key), with its error
  | ['l', string] // the sender leads now
  | ['m', string, string, number, unknown] // a message: channel, seq, data
  | ['e', string, keyof ConnectionEvents, unknown] // an event of the leader's connection
  | ['o', string, Resume, ...Batch] // the leader sends this batch now, on this session
  | ['y', string, Resume | undefined, number, Map<string, Set<string>>, Batch | undefined, unknown, unknown]; // the leader's state, to a new page

/**
 * Sends `batch` again on the session `known`, with its ids: the server applies an id once
 * (PROTOCOL.md §6.3), so a publish the old leader had in flight is applied once. `settle` gets
 * each publish of the batch the server applied, by key, with its refusal if it had one; then
 * `done` the server's acknowledged id, or none when the session is gone or out of reach after
 * three tries. Nothing is reported once `live()` says the page no longer leads.
 */
export function replayBatch(platform: Platform, endpoint: string, options: ConnectionOptions, known: Resume, batch: Batch | undefined,
  live: () => boolean, settle: (key: string, error?: Flat) => void, done: (ack?: number) => void): void {
  let tries = 0;
  const send = () => fetchJson(platform, {
    url: `${endpoint}/send?session=${known.session}`, body: `{"messages":[${batch?.[2] ?? ''}]}`,
    withCredentials: !!options.withCredentials, headers: options.headers ?? {}, timeoutMs: options.sendTimeoutMs ?? 15000,
  }, (failure, value) => {
    const answer = check(value);
    if (!live()) return;
    if (answer?.type == 'ack') {
      const { ack, errors = [] } = answer;
      batch?.[1].forEach((key, index) => {
        const id = batch[0] + index;
        const code = errors.find((error) => error.id == id)?.code;
        if (key && id <= ack) settle(key, code === undefined ? undefined : ['publish-refused', code, { code }]);
      });
      done(ack);
    } else if (failure && tries++ < 3) platform.setTimeout(send, known.retryMs);
    else done();
  });
  send();
}
