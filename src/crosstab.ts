// One connection per endpoint per browser (`acrossTabs`, what `CometClient` uses unless
// `shareAcrossTabs: false`). The pages (tabs, frames) of an origin that connect to one endpoint
// elect a leader with the Web Locks API: the page holding the lock runs the only connection and
// the only upstream queue (crosstab/leader.ts); the others subscribe, receive and publish through
// it over a BroadcastChannel. The lock is held for the leader's lifetime and the others queue on
// it, so when the leader's document goes away (closed, crashed, navigated) the browser hands the
// lock to the next page, which continues the same server session from the last `seq` every page
// saw. The messages, the roles and the takeover sequences: PROTOCOL.md §12 ("Between tabs").
//
// Security: BroadcastChannel and Web Locks are scoped by the browser to the origin (and storage
// partition) of the page, so only pages of this origin can hear or speak on this channel, or
// take the lock; the names add the endpoint's URL so that two endpoints never mix. Nothing here
// checks a sender: a page of the same origin runs the same application and is trusted as such.
//
// Every page keeps what a takeover needs, by hearing every message: each page's channels, the
// session, the last `seq` (`since`), and the last upstream request the leader formed. A page keeps
// its own publishes until they are settled, and offers them again to each new leader. Pages
// de-duplicate messages by `seq`, so a message a new leader receives again is not doubled.
import { addSubscriber } from './channels.ts';
import { CometError, closedError } from './errors.ts';
import { createInbox, type Inbox } from './inbox.ts';
import type { ConnectionEvents, ConnectionFactory, MessageHandler } from './types.ts';
import { createLeader, type Leader, type PageOptions } from './crosstab/leader.ts';
import {
  alone, cometError, EVENT, HELLO, MESSAGE, NEW_LEADER, PUBLISH, REQUEST, SETTLED,
  type FlatError, type Hello, type Known, type LastRequest, type LeaderEvent, type PageId, type PublishKey, type TabMessage, type TabPlatform,
} from './crosstab/messages.ts';
import { roles, type Role } from './crosstab/roles.ts';

export type { TabPlatform } from './crosstab/messages.ts';

/** This page's own publish, until the leader says how it ended. */
interface OwnPublish {
  channel: string;
  data: unknown;
  settle: (error?: CometError) => void;
}

/**
 * One page of a group: its role, its channel, what it knows of the group, its own publishes, its
 * locks. Its members are private (`_`): the page's client sees the `Connection` it makes.
 */
class Page {
  readonly _id: PageId;
  /** The lock and channel name: the browser scopes both to this origin; the URL, to this endpoint. */
  readonly _name: string;
  _role: Role = 'joining';
  /** Joined once this page's own lock is held: only then does it hear and speak. */
  _channel: BroadcastChannel | undefined;
  /** This page's handlers per channel, and each page's channels, this one's included. */
  readonly _handlers = new Map<string, Set<MessageHandler>>();
  readonly _tabs = new Map<PageId, string[]>();
  /** The messages of the session, to this page's handlers; its `since` is where a takeover resumes. */
  readonly _inbox: Inbox;
  /** The last upstream request the leader formed: a takeover sends it again first. */
  _last: LastRequest | undefined;
  /** The leader's connection state and transport, as its events told them. */
  _state: ConnectionEvents['statechange'] | undefined;
  _transport: ConnectionEvents['transport'] | undefined;
  /** This page's publishes not yet settled, by key. */
  readonly _own = new Map<number, OwnPublish>();
  /** End the hold on this page's own lock, and on the lead lock. */
  _release: (() => void) | undefined;
  _stepDown: (() => void) | undefined;
  readonly _leader: Leader;

  constructor(readonly _page: PageOptions) {
    const { endpoint, options, events } = _page;
    this._id = options.platform.Math.random();
    this._name = `cometkit ${new URL(endpoint, (options.platform as TabPlatform).location?.href).href}`;
    this._inbox = createInbox(this._handlers, events.emit);
    this._leader = createLeader(this);
    // A page about to be frozen (Page Lifecycle `freeze`: Chromium freezes some background tabs,
    // and a frozen page runs no code) hands the lead over instead of keeping every page waiting:
    // the next page continues the session as after a leader's loss. Resumed, it queues again.
    const { document } = options.platform;
    document?.addEventListener('freeze', () => {
      if (this._become('frozen')) this._resign();
    });
    document?.addEventListener('resume', () => {
      if (this._role == 'frozen' && this._become('following')) this._queue();
    });
  }

  /** Changes this page's role if `roles` allow it from the current one; returns whether it did. */
  _become(next: Role): boolean {
    if (!roles[this._role].includes(next)) return false;
    this._role = next;
    return true;
  }

  /** Tells every page, this one included. False (and nothing heard) when it could not be sent. */
  _say(message: TabMessage): boolean {
    if (this._role == 'ended') return false;
    // The leader relays every message of the session, and a post (a structured clone and a hop
    // between processes) costs more than all else a message costs (about 200 µs in Chromium,
    // `node bench/profile-client.mjs`): its own handlers first, and a post only to pages that
    // are there. A page that joins later learns `since` from the leader's answer to its hello.
    const relayed = message[0] == MESSAGE;
    if (relayed) this._hear(message);
    try {
      if (!relayed || this._tabs.size > 1) this._channel?.postMessage(message);
    } catch {
      // Not cloneable (a function in a publish's data), or the channel is closed.
      return false;
    }
    if (!relayed) this._hear(message);
    return true;
  }

  /** This page's channels; the leader adds what a page needs to take over one day. */
  _hello(): void {
    const known: Known | undefined = this._role == 'leading' ? [this._last, this._inbox.since, this._state, this._transport] : undefined;
    this._say([HELLO, this._id, [...this._handlers.keys()], known]);
  }

  /** Offers this page's publish of `key` to whoever leads. Data that does not clone is refused like data the server cannot take. */
  _offer(key: number, { channel, data, settle }: OwnPublish): void {
    if (!this._say([PUBLISH, key, channel, data])) settle(this._role == 'ended' ? closedError() : new CometError('publish-refused', 'bad-data', { code: 'bad-data' }));
  }

  /** This page's publishes not yet settled: to a new leader, or to the leader once this page can speak. */
  _offerAll(): void {
    for (const [key, publish] of this._own) this._offer(key, publish);
  }

  /** Each message, every page's own included, read into its named parts. */
  _hear(message: TabMessage): void {
    switch (message[0]) {
      case HELLO: return this._heardHello(message);
      case PUBLISH: {
        const [, key, channel, data] = message;
        return this._leader.publish(key, channel, data);
      }
      case SETTLED: {
        const [, key, error] = message;
        return this._settled(key, error);
      }
      case NEW_LEADER: return this._offerAll();
      case MESSAGE: {
        const [, channel, seq, data] = message;
        this._inbox.deliver(channel, seq, data);
        return;
      }
      case EVENT: return this._heardEvent(message);
      case REQUEST: {
        const [, request] = message;
        const [session] = request;
        // A new session starts from its own `seq`.
        if (session.session != this._last?.[0].session) this._inbox.since = session.seq;
        this._last = request;
      }
    }
  }

  /** A page new to this one learns this page's channels (and, from the leader, the rest); a leader watches it. */
  _heardHello([, from, channels, known]: Hello): void {
    if (from != this._id && !this._tabs.has(from)) {
      this._hello();
      if (this._role == 'leading') this._leader.watch(from);
    }
    this._tabs.set(from, channels);
    // The leader's answer to this page's hello: what the group knows.
    if (known && this._role == 'joining' && this._become('following')) {
      const [last, since, state, transport] = known;
      this._last = last;
      this._inbox.since = since;
      this._heardEvent([EVENT, 'statechange', state]);
      this._heardEvent([EVENT, 'transport', transport]);
    }
    this._leader.sync();
  }

  /** The leader's connection settled this page's publish of `key` (none: a replayed (un)subscribe). */
  _settled(key: PublishKey, error: FlatError | undefined): void {
    if (key !== undefined) this._own.get(key)?.settle(error && cometError(error));
  }

  /** An event of the leader's connection: this page's own, told to its listeners. */
  _heardEvent([, type, payload]: LeaderEvent): void {
    if (!payload) return;
    if (type == 'statechange') {
      const change = payload as ConnectionEvents['statechange'];
      if (change.state == this._state?.state) return;
      this._state = change;
    }
    if (type == 'transport') this._transport = payload as ConnectionEvents['transport'];
    // A gap's end is past every seq the leader relayed.
    if (type == 'gap') this._inbox.since = (payload as { to?: number }).to ?? this._inbox.since;
    this._page.events.emit(type, type == 'error' ? cometError(payload as FlatError) : payload as never);
    // The leader's connection ended for good (refused, gave up): so does every page's share of it.
    if (type == 'close') this._close();
  }

  /** Elected (the lead lock is held until `_stepDown`): runs the connection, then the pages offer their publishes. */
  _lead(): Promise<void> | undefined {
    if (this._role == 'ended') return;
    this._page.options.logger('cross-tab leader', this._id);
    this._leader.start();
    // The connection may have ended this page as it started: it must not outlive it.
    if (!this._become('leading')) {
      this._leader.stop();
      return;
    }
    // Once `leader` reads true: a listener may ask.
    this._page.events.emit('leader', { leader: true });
    this._leader.sync();
    // What this page knows, to a page that joined while none led; then the pages offer their publishes.
    this._hello();
    this._say([NEW_LEADER]);
    return new Promise<void>((resolve) => { this._stepDown = resolve; });
  }

  /** This page leads no more: its connection ends without a word to the others, its lead lock goes to the next page. */
  _resign(): void {
    if (!this._leader.stop()) return;
    this._page.events.emit('leader', { leader: false });
    this._stepDown?.();
  }

  _queue(): void {
    this._page.locks.request(this._name, () => this._lead()).catch(() => { this._close(); });
  }

  /** Takes this page's own lock, held for its lifetime (the leader watches it); then joins and queues for the lead. */
  _join(): void {
    const { locks, Channel, options } = this._page;
    void locks.request(`${this._name} ${this._id}`, () => {
      if (this._role == 'ended') return;
      this._channel = new Channel(this._name);
      this._channel.onmessage = ({ data }: MessageEvent<TabMessage>) => { if (this._role != 'ended') this._hear(data); };
      // What this page subscribed and published before it could speak.
      this._hello();
      this._offerAll();
      this._queue();
      return new Promise<void>((resolve) => { this._release = resolve; });
    }).catch(() => {
      // A lock lost while held (the page is going: WebKit rejects as it navigates a frame away, and
      // the old page's timers may still run): this page leaves, so it never competes with the next leader.
      if (this._channel) this._close();
      else {
        // Refused (an opaque origin, a sandboxed frame): this page runs a connection of its own.
        options.logger(alone);
        void this._lead();
      }
    });
  }

  _close(): void {
    if (!this._become('ended')) return;
    this._resign();
    this._release?.();
    this._channel?.close();
    for (const { settle } of this._own.values()) settle(closedError());
  }
}

export const acrossTabs = (inner: ConnectionFactory): ConnectionFactory => (endpoint, options, events) => {
  const { navigator, BroadcastChannel: Channel } = options.platform as TabPlatform;
  const locks = navigator?.locks;
  if (!locks || !Channel) {
    options.logger(alone);
    return inner(endpoint, options, events);
  }
  const page = new Page({ inner, endpoint, options, events, locks, Channel });
  page._join();
  return {
    ...events,
    get state() {
      return page._role == 'ended' ? 'closed' : page._state?.state ?? 'connecting';
    },
    get transport() {
      return page._role == 'ended' ? null : page._transport?.name ?? null;
    },
    get leader() {
      return page._role == 'leading';
    },
    subscribe: (channel, handler) => addSubscriber(page._handlers, channel, handler, () => { page._hello(); }),
    publish: (channel, data) => new Promise<void>((resolve, reject) => {
      const key = options.platform.Math.random();
      const publish: OwnPublish = {
        channel,
        data,
        settle(error) {
          page._own.delete(key);
          if (error) reject(error);
          else resolve();
        },
      };
      page._own.set(key, publish);
      page._offer(key, publish);
    }),
    close: () => { page._close(); },
  };
};
