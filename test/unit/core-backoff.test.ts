import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/backoff.ts';
import { seededRandom } from '../support/seeded-random.mjs';

const policy = { initialDelayMs: 1000, maxDelayMs: 30000 };

function draws(attempt: number, floorMs = 0, count = 5000) {
  const random = seededRandom(7);
  return Array.from({ length: count }, () => backoffDelay(attempt, policy, random, floorMs));
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('backoff', () => {
  it('draws uniformly between 0 and initialDelayMs·2^attempt (full jitter)', () => {
    const delays = draws(3);
    assert.ok(delays.every((delay) => delay >= 0 && delay <= 8000));
    assert.ok(Math.abs(mean(delays) - 4000) < 150, `mean ${mean(delays)}`);
    assert.ok(Math.min(...delays) < 100 && Math.max(...delays) > 7900, 'spread over the whole range');
  });

  it('stays random at the cap, so clients cut together do not return in lockstep', () => {
    const delays = draws(40);
    assert.ok(delays.every((delay) => delay <= 30000));
    assert.ok(Math.abs(mean(delays) - 15000) < 500, `mean ${mean(delays)}`);
    assert.ok(new Set(delays.map((delay) => Math.round(delay / 1000))).size > 25, 'spread over the whole capped range');
  });

  it("never waits less than the server's retryMs, and is still random above it on the first retry", () => {
    const delays = draws(0, 1000);
    assert.ok(delays.every((delay) => delay >= 1000 && delay <= 2000));
    assert.ok(Math.max(...delays) - Math.min(...delays) > 900);
  });

  it('takes its randomness from the injected source', () => {
    assert.equal(backoffDelay(2, policy, () => 0.5), 2000);
    assert.equal(backoffDelay(2, policy, () => 0), 0);
  });
});
