// What a page of cross-tab sharing (src/crosstab.ts) knows of its group, from what it heard: each
// page's channels, the messages of the session (each `seq` once, to this page's handlers), the last
// upstream request the leader formed, and the state and transport of the leader's connection.
// Every page keeps it, so that any of them can take over, and tell a newcomer.
import { createInbox, type Inbox } from '../inbox.ts';
import type { ClientEvents, ConnectionEvents, MessageHandler } from '../types.ts';
import { cometError, type FlatError, type Known, type LastRequest, type PageId } from './messages.ts';

/** Its functions use no `this`. */
export interface Group {
  /** Each page's channels, this one's included: the leader has their union subscribed. */
  readonly tabs: Map<PageId, string[]>;
  /** The messages of the session, to this page's handlers; its `since` is where a takeover resumes. */
  readonly inbox: Inbox;
  /** The last upstream request the leader formed: a takeover sends it again first. */
  readonly last: LastRequest | undefined;
  /** The leader's connection state and transport, as its events told them. */
  readonly state: ConnectionEvents['statechange'] | undefined;
  readonly transport: ConnectionEvents['transport'] | undefined;
  /** What the leader tells a page that said hello. */
  known: () => Known;
  /** The leader's answer to this page's hello. */
  adopt: (known: Known) => void;
  /** The leader formed `request`. */
  requested: (request: LastRequest) => void;
  /** An event of the leader's connection: this page's own, told to its listeners. */
  heard: (type: keyof ConnectionEvents, payload: unknown) => void;
}

/**
 * `handlers`: this page's handlers per channel; `events`: this page's client events; `ended`: the
 * leader's connection ended for good (refused, gave up), and so does every page's share of it.
 */
export function createGroup(handlers: Map<string, Set<MessageHandler>>, events: ClientEvents, ended: () => void): Group {
  const inbox = createInbox(handlers, events.emit);
  let last: LastRequest | undefined;
  let state: ConnectionEvents['statechange'] | undefined;
  let transport: ConnectionEvents['transport'] | undefined;

  function heard(type: keyof ConnectionEvents, payload: unknown) {
    if (!payload) return;
    if (type == 'statechange') {
      const change = payload as ConnectionEvents['statechange'];
      if (change.state == state?.state) return;
      state = change;
    }
    if (type == 'transport') transport = payload as ConnectionEvents['transport'];
    // A gap's end is past every seq the leader relayed.
    if (type == 'gap') inbox.since = (payload as { to?: number }).to ?? inbox.since;
    events.emit(type, type == 'error' ? cometError(payload as FlatError) : payload as never);
    if (type == 'close') ended();
  }

  return {
    tabs: new Map(),
    inbox,
    get last() {
      return last;
    },
    get state() {
      return state;
    },
    get transport() {
      return transport;
    },
    known: () => [last, inbox.since, state, transport],
    adopt([request, since, leaderState, leaderTransport]) {
      last = request;
      inbox.since = since;
      heard('statechange', leaderState);
      heard('transport', leaderTransport);
    },
    requested(request) {
      const [session] = request;
      // A new session starts from its own `seq`.
      if (session.session != last?.[0].session) inbox.since = session.seq;
      last = request;
    },
    heard,
  };
}
