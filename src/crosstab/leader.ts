// The connection the leading page of cross-tab sharing (src/crosstab.ts) runs for every page of the
// group: it continues the group's session from what every page heard (a takeover), subscribes on
// the server the union of every page's channels, sends the pages' publishes, tells every page each
// request before it is sent and each event of the connection, and learns when a page goes away by
// asking for that page's own lock. Which page leads is the page's (crosstab.ts).
import { flatError, MESSAGE, REQUEST, SETTLED, EVENT, type LastRequest, type PageId, type PublishKey, type TabMessage } from './messages.ts';
import type { CometError } from '../errors.ts';
import type { Inbox } from '../inbox.ts';
import { oneByOne, type Batching, type OutboxItem } from '../outbox.ts';
import type { ClientEvents, Connection, ConnectionFactory, ConnectionOptions, MessageHandler, Resume, Subscription } from '../types.ts';

/** What a page is made of: where it connects, the browser's locks and channels, and its client's events. */
export interface PageOptions {
  inner: ConnectionFactory;
  endpoint: string;
  options: ConnectionOptions;
  events: ClientEvents;
  locks: LockManager;
  Channel: typeof BroadcastChannel;
}

/** What the leader reads of its page (crosstab.ts, `Page`). */
export interface LeaderPage {
  readonly _page: PageOptions;
  readonly _id: PageId;
  /** The group's lock name: each page holds `${_name} ${page}` for its lifetime. */
  readonly _name: string;
  /** Each page's channels, this one's included: the leader has their union subscribed. */
  readonly _tabs: Map<PageId, string[]>;
  /** What every page heard: the last request the leader formed, and (the inbox's) `since`. */
  readonly _last: LastRequest | undefined;
  readonly _inbox: Inbox;
  /** Tells every page, this one included. */
  _say(message: TabMessage): boolean;
  /** A lock request failed: this page leaves the group. */
  _close(): void;
}

/** Its functions use no `this`. */
export interface Leader {
  /** Runs the connection, continuing the group's session if there is one. */
  start: () => void;
  /** Ends the connection without a word to the others; returns whether there was one. */
  stop: () => boolean;
  /** The server subscriptions follow the union of every page's channels. */
  sync: () => void;
  /** Learns when `page` goes away. */
  watch: (page: PageId) => void;
  /** Sends a page's publish of `key`, unless this connection has sent it already. */
  publish: (key: PublishKey, channel: string, data: unknown) => void;
}

/** Which publish each message of the connection's outbox is. */
interface Keys {
  /** The key of each message the outbox holds; none for an (un)subscribe. */
  readonly of: WeakMap<OutboxItem, PublishKey>;
  /** The key of the publish being handed to the connection. */
  handing: PublishKey;
}

/**
 * The connection's batching, telling every page each request before it is sent, with the keys of
 * its publishes.
 */
function announcing({ body, batch }: Batching, keys: Keys, say: LeaderPage['_say']): Batching {
  /** The keys of the publishes handed to the connection that no item has yet, oldest first. */
  const waiting: PublishKey[] = [];
  return {
    body(type, channel, data) {
      // A publish whose data cannot be sent throws here, and takes no key.
      const encoded = body(type, channel, data);
      if (type == 'publish') waiting.push(keys.handing);
      return encoded;
    },
    batch(items, base, limits, solo) {
      // Publishes reach the batcher in the order they were made (a new session puts only
      // (un)subscribes first), so each takes the oldest key not yet given.
      for (const item of items) if (item.type == 'publish' && !keys.of.has(item)) keys.of.set(item, waiting.shift());
      const formed = batch(items, base, limits, solo);
      // The outbox's limits are the session's handshake answer (connection.ts): a takeover needs it.
      if (formed.count) say([REQUEST, [limits as Resume, base, items.slice(0, formed.count).map((item) => [item.body, keys.of.get(item)])]]);
      return formed;
    },
  };
}

export function createLeader(page: LeaderPage): Leader {
  const { inner, endpoint, options, events, locks } = page._page;
  const tabs = page._tabs;
  const say = (message: TabMessage) => page._say(message);
  let connection: Connection | undefined;
  /** Counts this page's connections: the events and answers of an older one are dropped. */
  let runs = 0;
  const subscriptions = new Map<string, Subscription>();
  /** The keys of the publishes this connection has sent. */
  let sent = new Set<PublishKey>();
  let keys: Keys = { of: new WeakMap(), handing: undefined };

  const relay: MessageHandler = (data, { channel, seq }) => { say([MESSAGE, channel, seq, data]); };

  /** Tells every page how the publish of `key` ended (unless a newer connection of this page has taken over). */
  const settled = (key: PublishKey) => {
    sent.add(key);
    const run = runs;
    return (error?: CometError) => { if (run == runs) say([SETTLED, key, error && flatError(error)]); };
  };

  function sync() {
    if (!connection) return;
    const wanted = new Set([...tabs.values()].flat());
    for (const channel of wanted) if (!subscriptions.has(channel)) subscriptions.set(channel, connection.subscribe(channel, relay));
    for (const [channel, subscription] of subscriptions) {
      if (!wanted.has(channel)) {
        subscription.unsubscribe();
        subscriptions.delete(channel);
      }
    }
  }

  /** The page's own lock is held for its lifetime: the browser grants it when the page is closed, crashes or navigates. */
  function watch(other: PageId) {
    if (other == page._id) return;
    locks.request(`${page._name} ${other}`, () => {
      tabs.delete(other);
      sync();
    }).catch(() => { page._close(); });
  }

  /**
   * The connection continues the group's session, if there is one, from `since` and from the first
   * id of the last request (`_base`); that request goes again first (`_replay`), each message
   * with its own body, and its type as far as the session's end goes (a new session drops an old
   * (un)subscribe, §8.1, and sends a publish again).
   */
  function start() {
    sent = new Set();
    for (const other of tabs.keys()) watch(other);
    const run = ++runs;
    const { _last: last, _inbox: { since } } = page;
    const current = keys = { of: new WeakMap(), handing: undefined };
    const replay = (body: string, key: PublishKey): OutboxItem => {
      const item: OutboxItem = { type: key === undefined ? 'subscribe' : 'publish', body, settle: settled(key) };
      current.of.set(item, key);
      return item;
    };
    let resume: Resume | undefined;
    if (last) {
      const [session, base, messages] = last;
      resume = { ...session, seq: since, _base: base, _replay: messages.map(([body, key]) => replay(body, key)) };
    }
    const batching = announcing(options.batching ?? oneByOne, current, say);
    connection = inner(endpoint, { ...options, _resume: resume, batching }, {
      ...events,
      emit(type, payload) {
        if (run == runs) say([EVENT, type, type == 'error' ? flatError(payload as CometError) : payload]);
      },
    });
  }

  return {
    start,
    stop() {
      if (!connection) return false;
      runs++;
      connection.close();
      connection = undefined;
      subscriptions.clear();
      return true;
    },
    sync,
    watch,
    publish(key, channel, data) {
      if (!connection || sent.has(key)) return;
      // A key is offered again only around a takeover, long before 5,000 more are sent.
      if (sent.size > 5000) sent.clear();
      const settle = settled(keys.handing = key);
      void connection.publish(channel, data).then(() => { settle(); }, settle);
    },
  };
}
