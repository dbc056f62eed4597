// The liveness watchdog (PROTOCOL.md §7): a request must show life by a stored wall-clock deadline.
// It is judged by comparing platform.now() with the deadline, both when its timer fires and when the
// page asks (visibilitychange, pageshow, online), because background tabs fire timers late or not
// at all: a late timer re-arms for what is left instead of trusting that its delay has passed.
import type { Platform, TimerHandle } from './platform.ts';

export interface Watchdog {
  /** The request must show life within `ms` from now (moves the deadline, later or earlier). */
  arm: (ms: number) => void;
  /** Calls `expired` if the deadline has passed (also a page event listener). */
  check: () => void;
  stop: () => void;
}

export function createWatchdog(platform: Platform, expired: () => void): Watchdog {
  /** 0 when nothing is watched. */
  let deadline = 0;
  let timer: TimerHandle;

  const watch = (ms: number) => {
    platform.clearTimeout(timer);
    timer = platform.setTimeout(check, ms);
  };

  function check() {
    if (!deadline) return;
    const leftMs = deadline - platform.now();
    if (leftMs > 0) watch(leftMs);
    else {
      deadline = 0;
      expired();
    }
  }

  return {
    arm(ms) {
      deadline = platform.now() + ms;
      watch(ms);
    },
    check,
    stop() {
      platform.clearTimeout(timer);
      deadline = 0;
    },
  };
}
