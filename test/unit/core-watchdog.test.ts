import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWatchdog } from '../../src/watchdog.ts';
import { fakePlatform } from '../support/fake-platform.ts';

/** The fake platform, counting the timers set through it. */
function countingPlatform() {
  const platform = fakePlatform();
  const counts = { set: 0 };
  const setTimeout = platform.setTimeout.bind(platform);
  platform.setTimeout = (callback, delayMs) => {
    counts.set += 1;
    return setTimeout(callback, delayMs);
  };
  return { platform, counts };
}

describe('watchdog', () => {
  it('calls what is due once its time has passed since the last set, however often it was moved', () => {
    const { platform } = countingPlatform();
    const watchdog = createWatchdog(platform);
    let fired = 0;
    watchdog.set(1000, () => { fired += 1; });
    for (let message = 0; message < 50; message += 1) {
      platform.advance(100);
      watchdog.set(1000, () => { fired += 1; });
    }
    platform.advance(999);
    assert.equal(fired, 0, 'not before 1000 ms of silence');
    platform.advance(1);
    assert.equal(fired, 1);
    platform.advance(5000);
    assert.equal(fired, 1, 'once');
  });

  // A stream re-arms it on every message (src/downstream.ts): one timer per message is what the profile showed.
  it('sets no timer when moved to a later deadline: the pending one re-arms for the rest when it fires', () => {
    const { platform, counts } = countingPlatform();
    const watchdog = createWatchdog(platform);
    watchdog.set(1000, () => undefined);
    for (let message = 0; message < 1000; message += 1) {
      platform.advance(1);
      watchdog.set(1000, () => undefined);
    }
    assert.equal(counts.set, 2, 'the first timer, and its re-arm when it fired at 1000 ms');
  });

  it('sets a new timer when moved to an earlier deadline', () => {
    const { platform } = countingPlatform();
    const watchdog = createWatchdog(platform);
    const fired: string[] = [];
    watchdog.set(30000, () => { fired.push('late'); });
    watchdog.set(100, () => { fired.push('soon'); });
    platform.advance(100);
    assert.deepEqual(fired, ['soon']);
    platform.advance(60000);
    assert.deepEqual(fired, ['soon'], 'what was set before is replaced');
  });

  it('forgets what was set when stopped, and sets a timer again when set after', () => {
    const { platform } = countingPlatform();
    const watchdog = createWatchdog(platform);
    let fired = 0;
    watchdog.set(1000, () => { fired += 1; });
    watchdog.stop();
    watchdog.set(2000, () => { fired += 1; });
    platform.advance(1999);
    assert.equal(fired, 0);
    platform.advance(1);
    assert.equal(fired, 1);
  });
});
