// What the pages of cross-tab sharing (src/crosstab.ts) say to each other over their
// BroadcastChannel: PROTOCOL.md §12 ("Between tabs"). On the wire each message is an array whose
// first element is its tag (a structured clone of an array is the smallest); the page reads each
// kind into named parts (crosstab.ts, `_hear`).
import { CometError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import type { ConnectionEvents, Resume } from '../types.ts';

/** What cross-tab sharing needs of the platform, beyond `Platform` (absent: a connection per page). */
export interface TabPlatform extends Platform {
  readonly navigator?: { readonly locks?: LockManager | undefined } | undefined;
  readonly BroadcastChannel?: typeof BroadcastChannel | undefined;
  readonly location?: { readonly href: string } | undefined;
}

/** The tags, one character each on the wire. */
export const HELLO = 'h';
export const PUBLISH = 'p';
export const SETTLED = 'a';
export const NEW_LEADER = 'l';
export const MESSAGE = 'm';
export const EVENT = 'e';
export const REQUEST = 'o';

/** A page's id, and the key of a page's publish: `Math.random()` numbers, as unlikely to collide as any id. */
export type PageId = number;
/** The key of a publish; none for an (un)subscribe of a request. */
export type PublishKey = number | undefined;

/** An error as it travels between pages (a `cause` only comes with a listener's error, which never travels). */
export type FlatError = [type: CometError['type'], message: string, init: object];

export const flatError = ({ type, message, ...init }: CometError): FlatError => [type, message, init];
export const cometError = ([type, message, init]: FlatError): CometError => new CometError(type, message, init);

/**
 * The last upstream request the leader formed: its session, the id of its first message, then each
 * message as the request carries it without its id, with the key of its publish.
 */
export type LastRequest = [session: Resume, base: number, messages: [body: string, key: PublishKey][]];

/** What the leader tells a page that just said hello: enough to take over one day, and the state it missed. */
export type Known = [last: LastRequest | undefined, since: number,
  state: ConnectionEvents['statechange'] | undefined, transport: ConnectionEvents['transport'] | undefined];

/** A page's channels, all of them; from the leader, with what it knows. */
export type Hello = [tag: typeof HELLO, page: PageId, channels: string[], known?: Known];
/** A page's publish, for the leader to send. */
export type Publish = [tag: typeof PUBLISH, key: PublishKey, channel: string, data: unknown];
/** The leader's publish of `key` was settled, with its error if refused. */
export type Settled = [tag: typeof SETTLED, key: PublishKey, error?: FlatError];
/** A new leader: offer it your publishes. */
export type NewLeader = [tag: typeof NEW_LEADER];
/** A message the leader's connection received. */
export type Message = [tag: typeof MESSAGE, channel: string, seq: number, data: unknown];
/** An event of the leader's connection. */
export type LeaderEvent = [tag: typeof EVENT, type: keyof ConnectionEvents, payload: unknown];
/** The leader sends this request now. */
export type Request = [tag: typeof REQUEST, request: LastRequest];

export type TabMessage = Hello | Publish | Settled | NewLeader | Message | LeaderEvent | Request;

/** Said once through the logger where Web Locks or BroadcastChannel is missing or refused. */
export const alone = 'cross-tab sharing unavailable';
