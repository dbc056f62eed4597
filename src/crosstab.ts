// One connection per endpoint per browser (`acrossTabs`, what `CometClient` uses unless
// `shareAcrossTabs: false`). The pages (tabs, frames) of an origin that connect to one endpoint
// elect a leader with the Web Locks API: the page holding the lock runs the only connection and
// the only upstream queue (crosstab/leader.ts); the others subscribe, receive and publish through
// it over a BroadcastChannel. The lock is held for the leader's lifetime and the others queue on
// it, so when the leader's document goes away (closed, crashed, navigated) the browser hands the
// lock to the next page, which continues the same server session from the last `seq` every page
// saw. The messages and the takeover sequences: PROTOCOL.md §12 ("Between tabs").
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
import type { ConnectionFactory, MessageHandler } from './types.ts';
import { createGroup } from './crosstab/group.ts';
import { createElection } from './crosstab/election.ts';
import { createLeader } from './crosstab/leader.ts';
import { groupChannel } from './crosstab/channel.ts';
import { alone, dispatch, HELLO, NEW_LEADER, type Ear, type PageId, type TabPlatform } from './crosstab/messages.ts';
import { createPublishes } from './crosstab/publishes.ts';
import { pageRole } from './crosstab/roles.ts';

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
  const page: PageId = platform.Math.random();
  const role = pageRole();
  /** This page's handlers per channel. */
  const handlers = new Map<string, Set<MessageHandler>>();
  const group = createGroup(handlers, events, close);
  const channel = groupChannel(Channel, name, (message) => { dispatch(message, ear); });
  const { say } = channel;
  /** This page's channels; the leader adds what a page needs to take over one day. */
  const hello = () => {
    say([HELLO, page, [...handlers.keys()], role.role == 'leading' ? group.known() : undefined]);
  };
  const publishes = createPublishes(platform, say, () => role.role == 'ended');
  const leader = createLeader({ inner, endpoint, options, events, locks, name, page, group, say, close });
  const election = createElection({
    options, events, locks, name, page, role, leader, close,
    joined() {
      channel.join();
      // What this page subscribed and published before it could speak.
      hello();
      publishes.offerAll();
    },
    // What this page knows, to a page that joined while none led; then the pages offer their publishes.
    elected() {
      hello();
      say([NEW_LEADER]);
    },
  });

  /** What this page does with each message, every page's own included. */
  const ear: Ear = {
    // A page new to this one learns this page's channels (and, from the leader, the rest); a leader watches it.
    hello(from, channels, known) {
      if (from != page && !group.tabs.has(from)) {
        hello();
        if (role.role == 'leading') leader.watch(from);
      }
      group.tabs.set(from, channels);
      // The leader's answer to this page's hello: what the group knows.
      if (known && role.role == 'joining' && role.become('following')) group.adopt(known);
      leader.sync();
    },
    publish: leader.publish,
    settled: publishes.settled,
    newLeader: publishes.offerAll,
    message: (channel, seq, data) => { group.inbox.deliver(channel, seq, data); },
    event: group.heard,
    request: group.requested,
  };

  function close() {
    if (!role.become('ended')) return;
    // Silent first: nothing this page does from now on reaches the others.
    channel.leave();
    election.leave();
    publishes.close();
  }

  election.join();
  return {
    ...events,
    get state() {
      return role.role == 'ended' ? 'closed' : group.state?.state ?? 'connecting';
    },
    get transport() {
      return role.role == 'ended' ? null : group.transport?.name ?? null;
    },
    get leader() {
      return role.role == 'leading';
    },
    subscribe: (to, handler) => addSubscriber(handlers, to, handler, hello),
    publish: publishes.publish,
    close,
  };
};
