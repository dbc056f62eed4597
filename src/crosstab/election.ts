// Which page of a cross-tab group leads (src/crosstab.ts), through the Web Locks API. A page holds a
// lock of its own for its lifetime (the leader asks for it to learn when the page goes), joins the
// group once it holds it, then queues on the group's lead lock: the page that holds the lead lock
// leads, until it is frozen or closed, and the browser hands the lock to the next page when the
// leader's document goes away. PROTOCOL.md §12 ("Between tabs") has the sequences.
import type { Leader } from './leader.ts';
import { alone, type PageId } from './messages.ts';
import type { PageRole } from './roles.ts';
import type { ClientEvents, ConnectionOptions } from '../types.ts';

export interface ElectionOptions {
  options: ConnectionOptions;
  events: ClientEvents;
  locks: LockManager;
  /** The group's lock name; a page's own lock is this name and its id. */
  name: string;
  page: PageId;
  role: PageRole;
  /** The leader's connection, run while this page leads. */
  leader: Leader;
  /** This page's own lock is held: it may hear and speak now. */
  joined: () => void;
  /** This page leads now: the pages are to learn it. */
  elected: () => void;
  /** This page leaves the group (its own lock was lost while held, or a lock request failed). */
  close: () => void;
}

/** Its functions use no `this`. */
export interface Election {
  /** Takes this page's own lock, joins, and queues for the lead. */
  join: () => void;
  /** Leads no more: the connection ends without a word to the others, the lead lock goes to the next page. */
  resign: () => void;
  /** Resigns, and lets go of this page's own lock: the leader learns that this page went. */
  leave: () => void;
}

export function createElection({ options, events, locks, name, page, role, leader, joined, elected, close }: ElectionOptions): Election {
  const { logger } = options;
  /** End the hold on the lead lock, and on this page's own lock. */
  let stepDown: (() => void) | undefined;
  let release: (() => void) | undefined;

  function lead() {
    if (role.role == 'ended') return;
    logger('cross-tab leader', page);
    leader.start();
    // The connection may have ended this page as it started: it must not outlive it.
    if (!role.become('leading')) {
      leader.stop();
      return;
    }
    // Once `leader` reads true: a listener may ask.
    events.emit('leader', { leader: true });
    leader.sync();
    elected();
    return new Promise<void>((resolve) => { stepDown = resolve; });
  }

  function resign() {
    if (!leader.stop()) return;
    events.emit('leader', { leader: false });
    stepDown?.();
  }

  const queue = () => {
    locks.request(name, lead).catch(close);
  };

  /**
   * A page about to be frozen (Page Lifecycle `freeze`: Chromium freezes some background tabs, and
   * a frozen page runs no code) hands the lead over instead of keeping every page waiting: the next
   * page continues the session as after a leader's loss. Resumed, it queues for the lead again.
   */
  const { document } = options.platform;
  document?.addEventListener('freeze', () => {
    if (role.become('frozen')) resign();
  });
  document?.addEventListener('resume', () => {
    if (role.role == 'frozen' && role.become('following')) queue();
  });

  return {
    join() {
      let held = false;
      void locks.request(`${name} ${page}`, () => {
        if (role.role == 'ended') return;
        held = true;
        joined();
        queue();
        return new Promise<void>((resolve) => { release = resolve; });
      }).catch(() => {
        // A lock lost while held (the page is going: WebKit rejects as it navigates a frame away,
        // and the old page's timers may still run): this page leaves, so it never competes with
        // the next leader.
        if (held) close();
        else {
          // Refused (an opaque origin, a sandboxed frame): this page runs a connection of its own.
          logger(alone);
          void lead();
        }
      });
    },
    resign,
    leave() {
      resign();
      release?.();
    },
  };
}
