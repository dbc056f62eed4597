// What the pages of cross-tab sharing (src/crosstab.ts) say to each other over their
// BroadcastChannel. Tuples, not objects: the bundle mangles local names but keeps property names.
import type { CometError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import type { ConnectionEvents, Resume } from '../types.ts';

/** What cross-tab sharing needs of the platform, beyond `Platform` (absent: a connection per page). */
export interface TabPlatform extends Platform {
  readonly navigator?: { readonly locks?: LockManager | undefined } | undefined;
  readonly BroadcastChannel?: typeof BroadcastChannel | undefined;
  readonly location?: { readonly href: string } | undefined;
}

/** An error as it travels between pages: type, message, the rest (a `cause` only on a listener's error, which never travels). */
export type Flat = [CometError['type'], string, object];

export const flat = ({ type, message, ...rest }: CometError): Flat => [type, message, rest];

/**
 * The last upstream request the leader formed: its session, the id of its first message, then each
 * message as the request carries it without its id, with the key of its publish (none for an (un)subscribe).
 */
export type Batch = [session: Resume, base: number, messages: [body: string, key?: number][]];

/** What the leader tells a page that just said hello: enough to take over, and the events it missed. */
export type Known = [batch: Batch | undefined, since: number,
  state: ConnectionEvents['statechange'] | undefined, transport: ConnectionEvents['transport'] | undefined];

/** Said once through the logger where Web Locks or BroadcastChannel is missing or refused. */
export const alone = 'cross-tab sharing unavailable';

/**
 * The messages between pages. Only a hello names its sender: the others need not know it. Page
 * ids and publish keys are `Math.random()` numbers: a collision is as unlikely as with any id.
 */
export type Message =
  | ['h', number, string[], Known?] // hello: the sender's page id and channels, all of them (and, from the leader, what it knows)
  | ['p', number | undefined, string, unknown] // a publish: key, channel, data
  | ['a', number | undefined, Flat?] // a publish settled (by key), with its error
  | ['l'] // a new leader: offer it your publishes
  | ['m', string, number, unknown] // a message: channel, seq, data
  | ['e', keyof ConnectionEvents, unknown] // an event of the leader's connection
  | ['o', Batch]; // the leader sends this request now
