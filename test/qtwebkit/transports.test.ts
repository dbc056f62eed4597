// The legacy bundle's CometClient in QtWebKit 5.212 (a 2016 WebKit without fetch, AbortController,
// BroadcastChannel or Web Locks: docs/ENGINES-qtwebkit.md), each transport the engine supports
// forced alone through the test fault proxy cutting connections at random moments, in time and
// inside answers: every downstream message arrives once and in order, and every publish is
// applied once. Cross-origin (the proxy is another port), CORS granted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startFaultProxy } from '../support/fault-proxy.mjs';
import { FAST, FIXTURE_SERVER, sequenceProblems, startPageServer, type PageServer } from './support.ts';

interface ClientRun {
  down: number[];
  up: number[];
  acknowledged: number;
  errors: { type: string; transport: string | null; status?: number; willRetry: boolean; isCometError: boolean }[];
  states: string[];
  transports: string[];
  gaps: unknown[];
  log: string[];
  failure: string | null;
  transport: string | null;
  state: string;
}

const BURSTS = 20;
const BURST = 100;
const UPSTREAM = 200;

describe('the legacy bundle in QtWebKit 5.212, through a proxy that cuts every connection', () => {
  let fixture: PageServer;
  before(async () => {
    execFileSync('bash', ['scripts/ensure-browsers.sh'], { stdio: 'inherit', env: { ...process.env, BROWSERS: 'qtwebkit' } });
    fixture = await startPageServer(FIXTURE_SERVER);
  });
  after(() => fixture.close());

  for (const [position, name] of ['eventsource', 'xhr-streaming', 'iframe', 'long-polling', 'jsonp'].entries()) {
    test(`${name}: ${BURSTS * BURST} downstream and ${UPSTREAM} upstream messages arrive exactly once, in order`, { timeout: 180000 }, async () => {
      const proxy = await startFaultProxy({ targetPort: Number(new URL(fixture.origin).port), seed: 2000 + position, chaosCutMs: [30, 300], chaosCutBytes: [2000, 48000] });
      proxy.setMode('chaos');
      const down = `chaos-${name}-${Math.random().toString(36).slice(2, 10)}`;
      try {
        const run = await fixture.run<ClientRun>(['dist/cometkit.legacy.umd.min.js', 'pages/client.js'], {
          endpoint: `http://127.0.0.1:${proxy.port}/comet`,
          options: { ...FAST, transports: [name] },
          down,
          up: `${down}-up`,
          bursts: BURSTS,
          burst: BURST,
          upstream: UPSTREAM,
          size: 32,
        }, 170000);
        const summary = `${name}: ${run.down.length} down, ${run.up.length} up, ${proxy.stats.cuts} cuts of ${proxy.stats.connections} connections, ${run.errors.length} errors`;
        console.log(`[qtwebkit] ${summary}`);
        assert.equal(run.failure, null, `${summary}\n${run.log.join('\n')}`);
        assert.deepEqual(sequenceProblems(run.down, BURSTS * BURST), [], 'downstream');
        assert.deepEqual(sequenceProblems(run.up, UPSTREAM), [], 'upstream');
        assert.equal(run.acknowledged, UPSTREAM);
        assert.deepEqual(run.gaps, []);
        assert.equal(run.transport, name);
        // A green run proves the faults happened, and that the client lived through some.
        assert.ok(proxy.stats.cuts > 0, 'cuts');
        assert.ok(run.errors.length > 0, 'errors the client reported');
        assert.ok(run.errors.every((error) => error.isCometError), 'every error a CometError');
      } finally {
        await proxy.close();
      }
    });
  }
});
