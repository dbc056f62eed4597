// What a page is in its group (cross-tab sharing, src/crosstab.ts), and how that changes: one state
// and one transition function, the sequences of PROTOCOL.md §12 ("Between tabs").

/**
 * - joining: waiting for its own lock, then for what the leader knows (its answer to this page's hello)
 * - following: it goes through the leader's connection
 * - leading: it runs the connection for every page
 * - frozen: it led, and handed the lead over as the page was frozen; resumed, it follows and queues for the lead again
 * - ended: closed
 */
export type Role = 'joining' | 'following' | 'leading' | 'frozen' | 'ended';

/** The roles each role may change to; any other change is refused. */
export const roles: Readonly<Record<Role, readonly Role[]>> = {
  joining: ['following', 'leading', 'ended'],
  following: ['leading', 'ended'],
  leading: ['frozen', 'ended'],
  frozen: ['following', 'ended'],
  ended: [],
};

/** A page's role. Its functions use no `this`. */
export interface PageRole {
  readonly role: Role;
  /** Changes to `next` if `roles` allow it from the current role; returns whether it did. */
  become: (next: Role) => boolean;
}

export function pageRole(): PageRole {
  let role: Role = 'joining';
  return {
    get role() {
      return role;
    },
    become(next) {
      if (!roles[role].includes(next)) return false;
      role = next;
      return true;
    },
  };
}
