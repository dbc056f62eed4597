// The legacy bundle in QtWebKit 5.212 through a proxy that stalls or buffers (the browser suites'
// test/browser/faults.test.ts, in this engine): a stalled connection is found within about two
// heartbeat intervals and delivery resumes once the network is back, nothing lost, for each
// transport the engine supports; a buffering proxy sends the negotiator to a polling transport,
// one probe timeout per step, nothing lost on the way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startFaultProxy } from '../support/fault-proxy.mjs';
import { FAST, FIXTURE_SERVER, sequenceProblems, startPageServer, type PageServer } from './support.ts';

interface FaultRun {
  received: number[];
  errors: { at: number; type: string; transport: string | null }[];
  states: { at: number; state: string }[];
  transports: { at: number; name: string; reason: string }[];
  gaps: unknown[];
  log: string[];
  publishedOn: (string | null)[];
  failure: string | null;
  stalls?: number;
  detectedMs?: number;
  transport: string | null;
}

/** §7: a stream is dead after about two heartbeat intervals of silence, a poll after holdMs more; loosely bounded. */
const DETECTION_BOUND_MS = Math.max(4 * FIXTURE_SERVER.heartbeatMs, FIXTURE_SERVER.holdMs + 2 * FIXTURE_SERVER.heartbeatMs) + 2000;
const SCRIPTS = ['dist/cometkit.legacy.umd.min.js', 'pages/faults.js'];
const uniqueChannel = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

describe('the legacy bundle in QtWebKit 5.212, through a proxy that stalls or buffers', () => {
  let fixture: PageServer;
  before(async () => {
    execFileSync('bash', ['scripts/ensure-browsers.sh'], { stdio: 'inherit', env: { ...process.env, BROWSERS: 'qtwebkit' } });
    fixture = await startPageServer(FIXTURE_SERVER);
  });
  after(() => fixture.close());
  const targetPort = () => Number(new URL(fixture.origin).port);

  for (const name of ['eventsource', 'xhr-streaming', 'iframe', 'long-polling', 'jsonp']) {
    test(`${name}: a stall is detected within two heartbeat intervals, and nothing is lost`, { timeout: 90000 }, async () => {
      const proxy = await startFaultProxy({ targetPort: targetPort() });
      try {
        const run = await fixture.run<FaultRun>(SCRIPTS, {
          scenario: 'stall', endpoint: `http://127.0.0.1:${proxy.port}/comet`, options: { ...FAST, transports: [name] },
          channel: uniqueChannel(`stall-${name}`), proxy: fixture.control(proxy),
        }, 80000);
        console.log(`[qtwebkit] ${name} stall: detected after ${run.detectedMs} ms; ${run.received.length} messages`);
        assert.equal(run.failure, null, run.log.join('\n'));
        assert.ok((run.stalls ?? 0) > 0, 'connections stalled');
        assert.ok(run.detectedMs! <= DETECTION_BOUND_MS, `stall detection took ${run.detectedMs} ms`);
        assert.deepEqual(sequenceProblems(run.received, 150), []);
        assert.deepEqual(run.gaps, []);
        assert.equal(run.transport, name);
      } finally {
        await proxy.close();
      }
    });
  }

  test('buffer: the negotiator falls back to a polling transport within probeTimeoutMs per step, losing nothing', { timeout: 90000 }, async () => {
    const PROBE_TIMEOUT_MS = 1500;
    const BATCH = 30;
    const proxy = await startFaultProxy({ targetPort: targetPort() });
    proxy.setMode('buffer');
    try {
      // The default preference: all six, in the default order.
      const run = await fixture.run<FaultRun>(SCRIPTS, {
        scenario: 'buffer', endpoint: `http://127.0.0.1:${proxy.port}/comet`, options: { ...FAST, probeTimeoutMs: PROBE_TIMEOUT_MS },
        channel: uniqueChannel('buffer'), proxy: fixture.control(proxy), batch: BATCH,
      }, 80000);
      const steps = run.transports.map(({ at, name, reason }) => `${name} (${reason}, ${at} ms)`);
      console.log(`[qtwebkit] buffer: ${steps.join(' -> ')}; published on ${run.publishedOn.join(', ')}`);
      assert.equal(run.failure, null, run.log.join('\n'));
      assert.equal(run.transports[0]?.name, 'eventsource');
      assert.ok(['long-polling', 'jsonp'].includes(run.transports.at(-1)!.name));
      assert.deepEqual(run.transports.slice(1).map(({ reason }) => reason), run.transports.slice(1).map(() => 'fallback'));
      for (let step = 1; step < run.transports.length; step += 1) {
        assert.ok(run.transports[step]!.at - run.transports[step - 1]!.at <= PROBE_TIMEOUT_MS + 2000, `step to ${run.transports[step]!.name}`);
      }
      assert.equal(run.publishedOn[0], 'eventsource', 'the first batch went out before any fallback');
      assert.deepEqual(sequenceProblems(run.received, 3 * BATCH), []);
      assert.deepEqual(run.gaps, []);
    } finally {
      await proxy.close();
    }
  });
});
