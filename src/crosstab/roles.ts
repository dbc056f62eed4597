// What a page is in its group (cross-tab sharing, src/crosstab.ts), and how that changes: one state,
// changed only by `Page._become` as this table allows. PROTOCOL.md §12 ("Between tabs").

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
