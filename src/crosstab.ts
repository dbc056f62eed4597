// One connection per endpoint per browser (`acrossTabs`, what `CometClient` uses unless
// `shareAcrossTabs: false`). The pages (tabs, frames) of an origin that connect to one endpoint
// elect a leader with the Web Locks API: the page holding the lock runs the only connection and
// the only upstream queue; the others subscribe, receive and publish through it over a
// BroadcastChannel. The lock is held for the leader's lifetime and the others queue on it, so when
// the leader's document goes away (closed, crashed, navigated) the browser hands the lock to the
// next page, which continues the same server session from the last `seq` every page saw.
//
// Security: BroadcastChannel and Web Locks are scoped by the browser to the origin (and storage
// partition) of the page, so only pages of this origin can hear or speak on this channel, or
// take the lock; the names add the endpoint's URL so that two endpoints never mix. Nothing here
// checks a sender: a page of the same origin runs the same application and is trusted as such.
//
// Every page keeps only what a takeover needs, by hearing every message: each page's channels (the
// leader subscribes their union on the server; every page answers a newcomer's hello, since the
// next leader must subscribe them all before its first message arrives), the session, the last
// `seq`, and the last upstream request the leader formed, with its first id. A page keeps its own
// publishes until they are settled, and offers them again to each new leader. A new leader's
// connection continues the session (`_resume`) from `since`, numbering from that request's first
// id, and sends that request again first, message for message, as any of its messages (same route,
// script-only endpoints included, and same retries): the server applies an id once (PROTOCOL.md
// §6.3), so a publish the old leader had in flight is applied once, and its answer settles it.
// Pages de-duplicate messages by `seq`, so a message the new leader receives again is not doubled.
import { addSubscriber } from './channels.ts';
import { invoke } from './emitter.ts';
import { CometError, closedError, listenerError } from './errors.ts';
import { oneByOne, type OutboxItem } from './outbox.ts';
import type { Connection, ConnectionEvents, ConnectionFactory, MessageHandler, Resume, Subscription } from './types.ts';
import { alone, flat, type Batch, type Flat, type Message, type TabPlatform } from './crosstab/messages.ts';

export type { TabPlatform } from './crosstab/messages.ts';

/** A page's own publish until it is settled: its channel, its data, and how to settle it. */
type Publish = [channel: string, data: unknown, settle: (error?: CometError) => void];

export const acrossTabs = (inner: ConnectionFactory): ConnectionFactory => (endpoint, options, events) => {
  const { platform, logger } = options;
  const { navigator, BroadcastChannel: Channel, location } = platform as TabPlatform;
  const locks = navigator?.locks;
  if (!locks || !Channel) {
    logger(alone);
    return inner(endpoint, options, events);
  }
  /** The lock and channel name: the browser scopes both to this origin; the URL, to this endpoint. */
  const name = `cometkit ${new URL(endpoint, location?.href).href}`;
  const tab = platform.Math.random();
  /** Joined once this page's own lock is held: only then does it hear and speak (see `watch`). */
  let channel: BroadcastChannel | undefined;
  let ended: true | undefined;
  /** Set once the leader told this page what it knows (its answer to this page's hello), or it led. */
  let synced: true | undefined;
  /** Set while frozen after leading (see `freeze` below): back, it queues for the lead again. */
  let stepped: true | undefined;
  let since = 0;
  /** The last upstream request of the leader, with its session. */
  let last: Batch | undefined;
  let status: ConnectionEvents['statechange'] | undefined;
  let via: ConnectionEvents['transport'] | undefined;
  /** Ends this page's hold on its own lock (see `close`). */
  let release: (() => void) | undefined;
  /** This page's handlers per channel. */
  const handlers = new Map<string, Set<MessageHandler>>();
  /** Each page's channels, this one's included: the leader has their union subscribed. */
  const tabs = new Map<number, string[]>();
  /** This page's publishes not yet settled, by key. */
  const mine = new Map<number | undefined, Publish>();
  // The leader's: its connection (set while this page leads), which of them it is (an old one's
  // events are dropped), the server subscriptions, the keys it has sent.
  let connection: Connection | undefined;
  let runs = 0;
  let stepDown: (() => void) | undefined;
  const subscriptions = new Map<string, Subscription>();
  let sent = new Set<number | undefined>();
  /** The key of the publish the leader is handing to its connection (see `lead`). */
  let current: number | undefined;

  /** Tells every page, this one included. False (and nothing heard) when it could not be sent. */
  const say = (message: Message) => {
    if (ended) return false;
    try {
      channel?.postMessage(message);
    } catch {
      // Not cloneable (a function in a publish's data), or the channel is closed.
      return false;
    }
    hear(message);
    return true;
  };
  /**
   * Offers this page's publish of `key` to the leader (to every page: whoever leads sends it). Data
   * that does not clone is refused like data the server cannot take.
   */
  const offer = (key: number | undefined, [name, data, settle]: Publish) => {
    if (!say(['p', key, name, data])) settle(ended ? closedError() : new CometError('publish-refused', 'bad-data', { code: 'bad-data' }));
  };
  /** This page's publishes not yet settled, to a new leader, or to the leader once this page has joined. */
  const offerAll = () => {
    for (const [key, publish] of mine) offer(key, publish);
  };
  /** This page's channels; the leader adds what a page needs to take over one day. */
  const hello = () => {
    say(['h', tab, [...handlers.keys()], connection && [last, since, status, via]]);
  };

  /**
   * The leader learns when a page goes away by asking for that page's own lock, which the page
   * holds for its lifetime: the browser grants it when the page is closed, crashes or navigates.
   */
  const watch = (page: number) => {
    if (page != tab) {
      locks.request(`${name} ${page}`, () => {
        tabs.delete(page);
        sync();
      }).catch(close);
    }
  };

  /** The leader's server subscriptions follow the union of every page's channels. */
  const sync = () => {
    if (!connection) return;
    const wanted = new Set([...tabs.values()].flat());
    for (const name of wanted) if (!subscriptions.has(name)) subscriptions.set(name, connection.subscribe(name, relay));
    for (const [name, subscription] of subscriptions) {
      if (!wanted.has(name)) {
        subscription.unsubscribe();
        subscriptions.delete(name);
      }
    }
  };

  const relay: MessageHandler = (data, { channel, seq }) => { say(['m', channel, seq, data]); };

  /** Tells every page how the leader's publish of `key` ended (unless a newer connection of this page has taken over). */
  const settled = (key: number | undefined) => {
    sent.add(key);
    const mine = runs;
    return (error?: CometError) => { if (mine == runs) say(['a', key, error && flat(error)]); };
  };

  /** The leader sends a publish on its connection. */
  const send = (key: number | undefined, channel: string, data: unknown) => {
    // A key is offered again only around a takeover, long before 5,000 more are sent.
    if (sent.size > 5000) sent.clear();
    const settle = settled(current = key);
    void connection?.publish(channel, data).then(() => { settle(); }, settle);
  };

  /**
   * Elected: the leader's connection continues the group's session, if there is one, from `since`
   * and from the first id of the last request (`_base`); that request goes again first (`_replay`),
   * each message with its own body, and its type as far as the session's end goes (a new session
   * drops an old (un)subscribe, §8.1, and sends a publish again). Its batching is the connection's own, telling every
   * page each request before it is sent, with the keys of its publishes, in the order they were
   * made. Then the pages offer their publishes again.
   */
  const lead = () => {
    if (ended) return;
    synced = true;
    sent = new Set();
    logger('cross-tab leader', tab);
    for (const page of tabs.keys()) watch(page);
    const mine = ++runs;
    const { body, batch } = options.batching ?? oneByOne;
    const keys: (number | undefined)[] = [];
    const keyOf = new WeakMap<OutboxItem, number | undefined>();
    connection = inner(endpoint, {
      ...options,
      _resume: last && {
        ...last[0], seq: since, _base: last[1], _replay: last[2].map(([json, key]) => {
          const item: OutboxItem = { type: key === undefined ? 'subscribe' : 'publish', body: json, settle: settled(key) };
          keyOf.set(item, key);
          return item;
        }),
      },
      batching: {
        body(type, channel, data) {
          if (type == 'publish') keys.push(current);
          return body(type, channel, data);
        },
        batch(items, base, limits, solo) {
          // Publishes reach the batcher in the order they were made (a new session puts only
          // (un)subscribes first), so each takes the oldest key not yet given.
          for (const item of items) if (item.type == 'publish' && !keyOf.has(item)) keyOf.set(item, keys.shift());
          const formed = batch(items, base, limits, solo);
          if (formed.count) say(['o', [limits as Resume, base, items.slice(0, formed.count).map((item) => [item.body, keyOf.get(item)])]]);
          return formed;
        },
      },
    }, {
      ...events,
      emit(type, payload) {
        if (mine == runs) say(['e', type, type == 'error' ? flat(payload as CometError) : payload]);
      },
    });
    // Once `leader` reads true: a listener may ask.
    events.emit('leader', { leader: true });
    sync();
    // What this page knows, to a page that joined while none led; then the pages offer their publishes.
    hello();
    say(['l']);
    return new Promise<void>((resolve) => { stepDown = resolve; });
  };

  /** This page leads no more: its connection ends without a word to the others, its lead lock goes to the next page. */
  const resign = () => {
    if (connection) {
      runs++;
      connection.close();
      connection = undefined;
      subscriptions.clear();
      events.emit('leader', { leader: false });
      stepDown?.();
    }
  };
  const queue = () => {
    locks.request(name, lead).catch(close);
  };

  /**
   * A page about to be frozen (Page Lifecycle `freeze`: Chromium freezes some background tabs, and
   * a frozen page runs no code) hands the lead over instead of keeping every page waiting: its
   * connection ends without a word to the others, its lock goes to the next page, which continues
   * the session as after a leader's loss. Back (`resume`), it queues for the lead again.
   */
  platform.document?.addEventListener('freeze', () => {
    if (connection) stepped = true;
    resign();
  });
  platform.document?.addEventListener('resume', () => {
    if (stepped) {
      stepped = undefined;
      queue();
    }
  });

  function hear([kind, a, b, c]: Message) {
    if (kind == 'h') {
      // A page new to this one learns this page's channels (and, from the leader, the rest); a
      // leader watches it.
      if (a != tab && !tabs.has(a)) {
        hello();
        if (connection) watch(a);
      }
      tabs.set(a, b);
      if (c && !synced) {
        synced = true;
        [last, since] = c;
        hear(['e', 'statechange', c[2]]);
        hear(['e', 'transport', c[3]]);
      }
      sync();
    } else if (kind == 'p') {
      if (connection && !sent.has(a)) send(a, b, c);
    } else if (kind == 'a') {
      mine.get(a)?.[2](b && new CometError(...b));
    } else if (kind == 'l') {
      offerAll();
    } else if (kind == 'm') {
      // §5.1: a seq at or below the highest seen is a duplicate (a new leader resumes from its own).
      if (b > since) {
        since = b;
        for (const handler of [...handlers.get(a) ?? []]) {
          invoke(handler, (error) => { events.emit('error', listenerError(error)); }, c, { channel: a, seq: b });
        }
      }
    } else if (kind == 'e') {
      if (!b) return;
      if (a == 'statechange') {
        if ((b as NonNullable<typeof status>).state == status?.state) return;
        status = b as typeof status;
      }
      if (a == 'transport') via = b as typeof via;
      // A gap's end is past every seq the leader relayed.
      if (a == 'gap') since = (b as { to?: number }).to ?? since;
      events.emit(a, a == 'error' ? new CometError(...b as Flat) : b as never);
      // The leader's connection ended for good (refused, gave up): so does every page's share of it.
      if (a == 'close') close();
    } else {
      // A new session starts from its own `seq`.
      if (a[0].session != last?.[0].session) since = a[0].seq;
      last = a;
    }
  }

  function close() {
    if (ended) return;
    ended = true;
    resign();
    release?.();
    channel?.close();
    for (const [, , settle] of mine.values()) settle(closedError());
  }

  // This page's own lock, held for its lifetime (the leader watches it); then, queue for the lead.
  void locks.request(`${name} ${tab}`, () => {
    if (!ended) {
      channel = new Channel(name);
      channel.onmessage = ({ data }: MessageEvent<Message>) => { if (!ended) hear(data); };
      // What this page subscribed and published before it could speak.
      hello();
      offerAll();
      // A lock lost while held (the page is going: WebKit rejects as it navigates a frame away,
      // and the old page's timers may still run): this page leaves, so it never competes with the next leader.
      queue();
      return new Promise<void>((resolve) => { release = resolve; });
    }
  }).catch(() => {
    if (channel) close();
    else {
      // Refused (an opaque origin, a sandboxed frame): this page runs a connection of its own.
      logger(alone);
      void lead();
    }
  });

  return {
    ...events,
    get state() {
      return ended ? 'closed' : status?.state ?? 'connecting';
    },
    get transport() {
      return ended ? null : via?.name ?? null;
    },
    get leader() {
      return !!connection;
    },
    subscribe: (name, handler) => addSubscriber(handlers, name, handler, hello),
    publish: (name, data) => new Promise<void>((resolve, reject) => {
      const key = platform.Math.random();
      const settle = (error?: CometError) => {
        mine.delete(key);
        if (error) reject(error);
        else resolve();
      };
      const publish: Publish = [name, data, settle];
      mine.set(key, publish);
      offer(key, publish);
    }),
    close,
  };
};
