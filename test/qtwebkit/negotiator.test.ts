// The legacy bundle's negotiator in QtWebKit 5.212 (docs/ENGINES-qtwebkit.md): its own choice
// same-origin, cross-origin with a CORS grant and cross-origin without one (the script route);
// multipart, which the engine cannot read, failing with a typed error and handing over to the
// next transport; and the logger saying what the engine lacks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.mjs';
import { FAST, FIXTURE_SERVER, startPageServer, type PageServer } from './support.ts';

interface Negotiated {
  echoed: boolean;
  errors: { type: string; transport: string | null; willRetry: boolean; isCometError: boolean }[];
  states: string[];
  transports: string[];
  log: string[];
  transport: string | null;
  state: string;
}

const BUNDLE = ['dist/cometkit.legacy.umd.min.js', 'pages/negotiate.js'];
const channel = () => `negotiate-${Math.random().toString(36).slice(2, 10)}`;

describe('the legacy bundle\'s negotiator in QtWebKit 5.212', () => {
  let fixture: PageServer;
  /** Another origin whose server grants no CORS: a page reaches it by script only. */
  let closed: PageServer;
  let proxy: FaultProxy;
  before(async () => {
    execFileSync('bash', ['scripts/ensure-browsers.sh'], { stdio: 'inherit', env: { ...process.env, BROWSERS: 'qtwebkit' } });
    fixture = await startPageServer(FIXTURE_SERVER);
    closed = await startPageServer({ ...FIXTURE_SERVER, allowedOrigins: [] });
    proxy = await startFaultProxy({ targetPort: Number(new URL(fixture.origin).port) });
  });
  after(async () => {
    await proxy.close();
    await fixture.close();
    await closed.close();
  });

  test('same-origin, by its own choice: EventSource, and the logger says what the engine lacks', async () => {
    const run = await fixture.run<Negotiated>(BUNDLE, { endpoint: '/comet', options: {}, channel: channel(), waitMs: 20000 });
    assert.equal(run.echoed, true, run.log.join('\n'));
    assert.equal(run.transport, 'eventsource');
    assert.deepEqual(run.transports, ['eventsource preferred']);
    assert.deepEqual(run.errors, []);
    // No fetch or AbortController: one-shot requests go by XHR; no fetch, ReadableStream or
    // TextDecoder: streamed bodies by XHR too; no Web Locks or BroadcastChannel: a connection per page.
    assert.ok(run.log.includes('fetch or AbortController unavailable "one-shot requests by XMLHttpRequest"'), run.log.join('\n'));
    assert.ok(run.log.includes('fetch body streaming unavailable "xhr-streaming and multipart read by XMLHttpRequest"'), run.log.join('\n'));
    assert.ok(run.log.includes('cross-tab sharing unavailable'), run.log.join('\n'));
  });

  test('cross-origin with a CORS grant, by its own choice: EventSource', async () => {
    const run = await fixture.run<Negotiated>(BUNDLE, { endpoint: `http://127.0.0.1:${proxy.port}/comet`, options: { shareAcrossTabs: false }, channel: channel(), waitMs: 20000 });
    assert.equal(run.echoed, true, run.log.join('\n'));
    assert.equal(run.transport, 'eventsource');
    assert.deepEqual(run.errors, []);
  });

  // PROTOCOL.md §5.3: a cross-origin forever frame posts to the page's origin only when the server
  // allows it (else 403 forbidden-origin: a document that delivers nothing, `malformed`).
  test('cross-origin without a CORS grant: the handshake and sends go by script, the frame is refused, jsonp takes over', async () => {
    const run = await fixture.run<Negotiated>(BUNDLE, { endpoint: `${closed.origin}/comet`, options: { shareAcrossTabs: false }, channel: channel(), waitMs: 20000 });
    assert.equal(run.echoed, true, run.log.join('\n'));
    assert.ok(run.log.includes('upstream "script"'), run.log.join('\n'));
    assert.ok(run.log.includes('candidates ["iframe","jsonp"]'), run.log.join('\n'));
    assert.deepEqual(run.transports, ['iframe preferred', 'jsonp fallback']);
    assert.deepEqual(run.errors, [{ type: 'malformed', transport: 'iframe', willRetry: true, isCometError: true }]);
    assert.equal(run.transport, 'jsonp');
  });

  test('multipart forced alone fails with a typed error, and the client keeps trying', async () => {
    const run = await fixture.run<Negotiated>(BUNDLE, { endpoint: '/comet', options: { ...FAST, transports: ['multipart'] }, channel: channel(), waitMs: 3000 });
    assert.equal(run.echoed, false);
    assert.ok(run.errors.length > 0);
    assert.deepEqual(run.errors[0], { type: 'network', transport: 'multipart', willRetry: true, isCometError: true });
    assert.notEqual(run.state, 'open');
  });

  test('multipart fails, and the negotiator moves on to the next transport', async () => {
    const run = await fixture.run<Negotiated>(BUNDLE, { endpoint: '/comet', options: { ...FAST, transports: ['multipart', 'long-polling'] }, channel: channel(), waitMs: 20000 });
    assert.equal(run.echoed, true, run.log.join('\n'));
    assert.deepEqual(run.errors, [{ type: 'network', transport: 'multipart', willRetry: true, isCometError: true }]);
    assert.deepEqual(run.transports, ['multipart preferred', 'long-polling fallback']);
    assert.equal(run.transport, 'long-polling');
  });
});
