// The connection's one timer, judged by wall-clock time (PROTOCOL.md §7): either the deadline by
// which the request in flight must show life, or the wait before the next attempt (never both). It
// compares platform.Date.now() with the deadline both when its timer fires and when the page asks
// (visibilitychange, pageshow, online), because background tabs fire timers late or not at all: a
// late timer re-arms for what is left instead of trusting that its delay has passed.
import type { Platform, TimerHandle } from './platform.ts';

/** Its functions use no `this`: `check` is also a page event listener. */
export interface Watchdog {
  /** Calls `due` once `ms` have passed from now, replacing what was set before. */
  set: (ms: number, due: () => void) => void;
  /** Calls what is due if its time has passed. */
  check: () => void;
  /** Forgets what was set. */
  stop: () => void;
}

export function createWatchdog(platform: Platform): Watchdog {
  /** 0 when nothing is set. */
  let deadline = 0;
  let timer: TimerHandle;
  let due: () => void;

  const watch = (ms: number) => {
    platform.clearTimeout(timer);
    timer = platform.setTimeout(check, ms);
  };

  function check() {
    const leftMs = deadline - platform.Date.now();
    if (!deadline) return;
    if (leftMs > 0) watch(leftMs);
    else {
      deadline = 0;
      due();
    }
  }

  return {
    set: (ms, then) => {
      const at = platform.Date.now() + ms;
      // While a deadline is set, a timer is pending that fires by it. A later deadline leaves that
      // timer be: it re-arms for the rest when it fires (check). A stream re-arms on every message,
      // and a timer cleared and set cost more than the rest of a message's work (bench/profile-client.mjs).
      if (!deadline || at < deadline) watch(ms);
      deadline = at;
      due = then;
    },
    check,
    stop: () => {
      platform.clearTimeout(timer);
      deadline = 0;
    },
  };
}
