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
// Every page keeps the group's state by hearing every message: each page's channels (the leader
// subscribes their union on the server), the publishes not yet settled, the session and the last
// `seq`, and the last upstream batch the leader sent with its message ids. A new leader first sends
// that batch again, same ids (crosstab/messages.ts; the server applies an id once, PROTOCOL.md §6.3), which settles its
// publishes and tells it the server's acknowledged id; its connection then continues the session
// (`_resume`) from `since`, numbering from that id + 1, and sends the publishes still pending.
// Pages de-duplicate messages by `seq`, so a message the new leader receives again is not doubled.
import { invoke } from './emitter.ts';
import { CometError, closedError, listenerError } from './errors.ts';
import { oneByOne, type Batching, type OutboxItem } from './outbox.ts';
import type { CometState, Connection, ConnectionEvents, ConnectionFactory, MessageHandler, Resume, Subscription } from './types.ts';
import type { TransportName } from '../transports/types.ts';
import { alone, badData, flat, replayBatch, type Batch, type Flat, type Message, type TabPlatform } from './crosstab/messages.ts';

export type { TabPlatform } from './crosstab/messages.ts';

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
  const channel = new Channel(name);
  const tab = platform.Math.random().toString(36).slice(2);
  let state: CometState = 'connecting';
  let transport: TransportName | null = null;
  /** Set once this page's own lock is held: only then does it speak (see `watch`). */
  let ready = false;
  let leading = false;
  /** Set once the leader's state reached this page (its reply to this page's hello). */
  let synced = false;
  let ended = false;
  let count = 0;
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  /** Ends this page's leadership (see `follow`); counts the leader's connections, so an old one's events are dropped. */
  let stepDown: (() => void) | undefined;
  let stepped = false;
  let runs = 0;
  /** This page's handlers per channel. */
  const handlers = new Map<string, Set<MessageHandler>>();
  /** Each page's channels, this one's included: the leader has their union subscribed. */
  const tabs = new Map<string, Set<string>>();
  /** The publishes of every page not known settled, by key, in order. */
  const pending = new Map<string, [string, unknown]>();
  /** This page's own publishes, settled by their key. */
  const mine = new Map<string, (error?: CometError) => void>();
  /** Keys settled, or sent by this leader: a publish offered again is not sent twice. */
  const done = new Set<string>();
  let session: Resume | undefined;
  let since = 0;
  let batch: Batch | undefined;
  // The leader's: its connection, the server subscriptions, the pages it watches, its last events.
  let connection: Connection | undefined;
  const subscriptions = new Map<string, Subscription>();
  const watched = new Set<string>();
  let lastState: unknown;
  let lastTransport: unknown;
  /** The key of the publish the leader is handing to its connection (see `batching`). */
  let current: string | undefined;
  const keys: (string | undefined)[] = [];
  const itemKeys = new WeakMap<OutboxItem, string | undefined>();

  const post = (message: Message) => {
    try {
      channel.postMessage(message);
      return true;
    } catch {
      // Not cloneable (a function in a publish's data), or the channel is closed.
      return false;
    }
  };
  /** Tells every page, this one included. False (and nothing heard) when it could not be sent. */
  const say = (message: Message) => {
    const sent = !ended && (!ready || post(message));
    if (sent) hear(message);
    return sent;
  };
  const finish = (key: string, error?: Flat) => {
    done.add(key);
    // Bounded: a key is offered again only around a takeover, long before 5,000 more settle.
    for (const oldest of done) if (done.size > 5000) done.delete(oldest); else break;
    pending.delete(key);
    mine.get(key)?.(error && new CometError(...error));
    mine.delete(key);
  };
  const offer = (key: string) => {
    const publish = pending.get(key);
    if (publish && !post(['p', tab, key, ...publish])) finish(key, badData);
  };
  /** This page's channels, and its publishes still pending: to a new leader, or to everyone at start. */
  const hello = () => {
    post(['h', tab, [...handlers.keys()]]);
    for (const key of mine.keys()) offer(key);
  };

  /**
   * The leader learns when a page goes away by asking for that page's own lock, which the page
   * holds for its lifetime: the browser grants it when the page is closed, crashes or navigates.
   */
  const watch = (page: string) => {
    if (page != tab && !watched.has(page)) {
      watched.add(page);
      locks.request(`${name} ${page}`, () => {
        tabs.delete(page);
        sync();
      }).catch(close);
    }
  };

  const union = () => new Set([...tabs.values()].flatMap((channels) => [...channels]));

  /**
   * The leader's server subscriptions follow the union of every page's channels. `served`, the
   * channels the session had before a takeover, are subscribed too for a moment: one that no page
   * wants any more is then unsubscribed, so the server drops what only the old leader wanted.
   */
  function sync(served: Iterable<string> = []) {
    if (!connection || ended) return;
    const wanted = union();
    for (const name of new Set([...served, ...wanted])) if (!subscriptions.has(name)) subscriptions.set(name, connection.subscribe(name, relay));
    for (const [name, subscription] of subscriptions) {
      if (!wanted.has(name)) {
        subscription.unsubscribe();
        subscriptions.delete(name);
      }
    }
  }

  const relay: MessageHandler = (data, { channel, seq }) => { say(['m', tab, channel, seq, data]); };

  /** The leader sends a publish (once) on its connection, and tells every page how it ended. */
  function send(key: string) {
    const publish = pending.get(key);
    if (!connection || !publish || done.has(key)) return;
    done.add(key);
    current = key;
    // A connection ended by `follow` settles its publishes as closed: the next leader sends them.
    const mine = runs;
    const settled = (error?: Flat) => { if (mine == runs) say(['a', tab, key, error]); };
    connection.publish(...publish).then(() => { settled(); }, (error: unknown) => { settled(flat(error as CometError)); });
    current = undefined;
  }

  /**
   * The leader's batching: its connection's own, telling every page each batch before it is sent,
   * with the keys of its publishes. Items get their key in the order the connection made them.
   */
  const { body, batch: form } = options.batching ?? oneByOne;
  const batching: Batching = {
    body(type, channel, data) {
      const json = body(type, channel, data);
      if (type == 'publish') keys.push(current);
      return json;
    },
    batch(items, base, limits, solo) {
      for (const item of items) if (item.type == 'publish' && !itemKeys.has(item)) itemKeys.set(item, keys.shift());
      const formed = form(items, base, limits, solo);
      if (formed[1]) say(['o', tab, { ...limits as Resume }, base, items.slice(0, formed[1]).map((item) => itemKeys.get(item)), formed[0]]);
      return formed;
    },
  };

  /** The leader's connection: continuing the group's session (`resume`) or a new one. */
  function run(resume?: Resume, served: Iterable<string> = []) {
    const mine = ++runs;
    connection = inner(endpoint, { ...options, batching, _resume: resume }, {
      ...events,
      emit(type, payload) {
        if (mine != runs) return;
        if (type == 'statechange') lastState = payload;
        if (type == 'transport') lastTransport = payload;
        say(['e', tab, type, type == 'error' ? flat(payload as CometError) : payload]);
      },
    });
    sync(served);
    for (const key of pending.keys()) send(key);
  }

  /** Elected: continue the group's session, after the last batch is settled, or open one. */
  function lead() {
    if (ended) return;
    leading = true;
    logger('cross-tab leader', tab);
    events.emit('leader', { leader: true });
    const served = union();
    post(['l', tab]);
    for (const page of tabs.keys()) watch(page);
    const known = session;
    if (!known) run();
    else {
      replayBatch(platform, endpoint, options, known, batch, () => !ended && leading, (key, error) => {
        if (!done.has(key)) say(['a', tab, key, error]);
      }, (ack) => {
        if (ack !== undefined) return run({ ...known, seq: since, _base: ack + 1 }, served);
        // The session is gone (or out of reach): a new one, and what was missed is a gap.
        say(['e', tab, 'gap', { reason: 'unknown-session' }]);
        run();
      });
    }
    return new Promise<void>((resolve) => {
      stepDown = resolve;
      void held.then(resolve);
    });
  }

  /**
   * A page about to be frozen (Page Lifecycle `freeze`: Chromium freezes some background tabs, and
   * a frozen page runs no code) hands the lead over instead of keeping every page waiting: its
   * connection ends without a word to the others, its lock goes to the next page, which continues
   * the session as after a leader's loss. Back (`resume`), it queues for the lead again.
   */
  function follow() {
    if (!leading || ended) return;
    leading = false;
    stepped = true;
    runs++;
    // Sent but not settled: the next leader sends them, and so would this page if it leads again.
    for (const key of pending.keys()) done.delete(key);
    connection?.close();
    connection = undefined;
    subscriptions.clear();
    events.emit('leader', { leader: false });
    stepDown?.();
  }
  platform.document?.addEventListener('freeze', follow);
  platform.document?.addEventListener('resume', () => {
    if (stepped && !ended) {
      stepped = false;
      locks.request(name, lead).catch(close);
    }
  });

  function hear(message: Message) {
    const from = message[1];
    if (leading) watch(from);
    switch (message[0]) {
      case 'h':
        tabs.set(from, new Set(message[2]));
        if (leading && from != tab) post(['y', tab, session, since, tabs, batch, lastState, lastTransport]);
        sync();
        break;
      case 's':
        tabs.set(from, (tabs.get(from) ?? new Set()).add(message[2]));
        sync();
        break;
      case 'u':
        tabs.get(from)?.delete(message[2]);
        sync();
        break;
      case 'p':
        if (!done.has(message[2])) pending.set(message[2], [message[3], message[4]]);
        send(message[2]);
        break;
      case 'a':
        finish(message[2], message[3]);
        break;
      case 'l':
        if (from != tab) hello();
        break;
      case 'm': {
        const [, , name, seq, data] = message;
        // §5.1: a seq at or below the highest seen is a duplicate (a new leader resumes from its own).
        if (seq > since) {
          since = seq;
          for (const handler of [...handlers.get(name) ?? []]) {
            invoke(handler, (error) => { events.emit('error', listenerError(error)); }, data, { channel: name, seq });
          }
        }
        break;
      }
      case 'e':
        event(message[2], message[3]);
        break;
      case 'o':
        known(message[2], message[2].seq);
        batch = [message[3], message[4], message[5]];
        break;
      case 'y':
        if (!synced) {
          synced = true;
          event('statechange', message[6]);
          event('transport', message[7]);
        }
        known(message[2], message[3]);
        for (const [page, channels] of message[4]) if (page != tab) tabs.set(page, channels);
        // The batch goes with its session: never sent again on another.
        batch = message[5];
        break;
    }
  }

  /** The group's session: a new one starts from its own `seq`. */
  function known(next: Resume | undefined, seq: number) {
    if (next) {
      if (next.session == session?.session) since = Math.max(since, seq);
      else {
        since = seq;
        batch = undefined;
      }
      session = next;
    }
  }

  function event(type: keyof ConnectionEvents, payload: unknown) {
    if (!payload) return;
    if (type == 'statechange') {
      const next = (payload as ConnectionEvents['statechange']).state;
      if (next == state) return;
      state = next;
    }
    if (type == 'transport') transport = (payload as ConnectionEvents['transport']).name;
    if (type == 'gap') since = Math.max(since, (payload as { to?: number }).to ?? 0);
    events.emit(type, type == 'error' ? new CometError(...payload as Flat) : payload as never);
    // The leader's connection ended for good (refused, gave up): so does every page's share of it.
    if (type == 'close') close();
  }

  function close() {
    if (ended) return;
    ended = true;
    state = 'closed';
    release();
    channel.close();
    connection?.close();
    for (const settle of mine.values()) settle(closedError());
  }

  channel.onmessage = ({ data }: MessageEvent<Message>) => { if (!ended) hear(data); };
  // This page's own lock, held for its lifetime (the leader watches it); then, queue for the lead.
  void locks.request(`${name} ${tab}`, () => {
    if (!ended) {
      ready = true;
      hello();
      // A lock lost while held (the page is going: WebKit rejects as it navigates a frame away,
      // and the old page's timers may still run): this page leaves, so it never competes with the next leader.
      locks.request(name, lead).catch(close);
    }
    return held;
  }).catch(() => {
    if (ready) close();
    else {
      // Refused (an opaque origin, a sandboxed frame): this page runs a connection of its own.
      logger(alone);
      ready = true;
      void lead();
    }
  });

  return {
    get state() {
      return state;
    },
    get transport() {
      return state == 'closed' ? null : transport;
    },
    get leader() {
      return leading && !ended;
    },
    subscribe<Data>(name: string, handler: MessageHandler<Data>) {
      // A function of its own per call: the same handler subscribed twice is two subscriptions.
      const subscriber: MessageHandler = (data, message) => { handler(data as Data, message); };
      let set = handlers.get(name);
      if (!set) {
        handlers.set(name, set = new Set());
        say(['s', tab, name]);
      }
      set.add(subscriber);
      return {
        unsubscribe() {
          if (set.delete(subscriber) && !set.size && handlers.get(name) == set) {
            handlers.delete(name);
            say(['u', tab, name]);
          }
        },
      };
    },
    publish: (name, data) => new Promise<void>((resolve, reject) => {
      const key = `${tab}.${++count}`;
      mine.set(key, (error) => { if (error) reject(error); else resolve(); });
      if (ended) finish(key, flat(closedError()));
      else if (!say(['p', tab, key, name, data])) finish(key, badData);
    }),
    on: events.on,
    off: events.off,
    close,
  };
};
