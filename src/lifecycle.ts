// The page's lifecycle events (`lifecycle: pageLifecycle`, what `CometClient` uses). Back online, or
// back from the back-forward cache (`pageshow`), the connection reconnects at once instead of
// waiting out a backoff; when the page becomes visible again it checks its heartbeat deadline by the
// wall clock, because background tabs fire timers late or not at all (PROTOCOL.md §7). Without it,
// a client recovers by its timers alone: a backoff, or the heartbeat tolerance.
import type { Platform } from './platform.ts';

/**
 * Hears the events that call for `wake` (reconnect now if waiting out a backoff or restored from
 * the back-forward cache, else check the deadline) or `check` (check the deadline). Returns the
 * function that stops listening, called when the connection closes.
 */
export type Lifecycle = (platform: Platform, wake: (event: Event) => void, check: () => void) => () => void;

export const pageLifecycle: Lifecycle = ({ window, document }, wake, check) => {
  const listen = (method: 'addEventListener' | 'removeEventListener') => {
    window?.[method]('online', wake);
    window?.[method]('pageshow', wake);
    document?.[method]('visibilitychange', check);
  };
  listen('addEventListener');
  return () => { listen('removeEventListener'); };
};
