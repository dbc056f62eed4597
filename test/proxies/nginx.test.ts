// nginx 1.22 (Debian) in front of the reference server: the README's block as written; with
// proxy_buffering on (the server's X-Accel-Buffering: no must turn it off); with a read timeout
// shorter than the heartbeat and the poll hold; with gzip on for every type; and with its
// default Host rewriting, which must fail loudly. Started by each test on a free loopback port
// (test/proxies/middlebox.ts), never as a service.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createGunzip } from 'node:zlib';
import { scenarioTests, browserFor } from './harness.ts';
import { SCENARIOS, startScenario, type Started } from './scenarios.ts';

/** A handshake through the proxy, then an SSE stream of that session (with `headers`): its response, unread. */
async function openSse(started: Started, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  const port = started.box.port;
  const get = (path: string, extra: Record<string, string> = {}) => new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: extra }, resolve).on('error', reject);
  });
  const hello = await get('/comet/handshake?v=1');
  let text = '';
  for await (const chunk of hello) text += String(chunk);
  const { session } = JSON.parse(text) as { session: string };
  return get(`/comet/sse?session=${session}&since=0`, headers);
}

describe('nginx 1.22 in front of the server', () => {
  scenarioTests('nginx-readme', { negotiated: 'eventsource' });

  // The streaming transports only: what X-Accel-Buffering changes is whether a stream flows.
  scenarioTests('nginx-accel', {
    negotiated: 'eventsource',
    transports: ['eventsource', 'xhr-streaming', 'multipart', 'iframe'],
    async extra(started) {
      // A lone open frame (far below nginx's buffer) comes through at once: the header turned buffering off.
      const stream = await openSse(started);
      const text = await new Promise<string>((resolve, reject) => {
        let seen = '';
        stream.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes('"type":"open"')) resolve(seen);
        });
        setTimeout(() => { reject(new Error(`no open frame within 3 s; got ${JSON.stringify(seen)}`)); }, 3000);
      });
      stream.destroy();
      assert.match(text, /"type":"open"/);
    },
  });

  scenarioTests('nginx-timeout', {
    negotiated: 'eventsource',
    async extra(started) {
      // The cut is real: an idle stream ends before the server's first heartbeat would have come.
      const stream = await openSse(started);
      const opened = Date.now();
      stream.resume();
      await new Promise((resolve) => { stream.once('close', resolve); });
      const lastedMs = Date.now() - opened;
      assert.ok(lastedMs < (SCENARIOS['nginx-timeout'].server.heartbeatMs ?? 0), `the idle stream lasted ${lastedMs} ms`);
    },
  });

  scenarioTests('nginx-gzip', {
    negotiated: 'eventsource',
    async extra(started) {
      // nginx does compress the push responses here, and still hands each write on as it comes
      // (proxy_buffering off makes it flush the gzip stream per upstream chunk).
      const stream = await openSse(started, { 'Accept-Encoding': 'gzip' });
      assert.equal(stream.headers['content-encoding'], 'gzip');
      const text = await new Promise<string>((resolve, reject) => {
        let seen = '';
        const gunzip = createGunzip();
        gunzip.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes('"type":"open"')) resolve(seen);
        });
        gunzip.on('error', reject);
        stream.pipe(gunzip);
        setTimeout(() => { reject(new Error(`no open frame through gzip within 5 s; got ${JSON.stringify(seen)}`)); }, 5000);
      });
      stream.destroy();
      assert.match(text, /"type":"open"/);
    },
  });

  describe('nginx rewriting Host (its default proxy_set_header Host $proxy_host)', () => {
    let started: Started | undefined;
    before(async () => { started = await startScenario(SCENARIOS['nginx-host-rewritten']); });
    after(async () => { await started?.stop(); });

    for (const engine of ['chromium', 'firefox'] as const) {
      test(`${engine}: a 403 forbidden-origin that says what to check, an error event in the page, one report on the server`, { timeout: 60_000 }, async () => {
        const browser = await browserFor(engine);
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(`${started!.origin}/`);
          await page.waitForFunction(() => 'driver' in window);
          const answer = await page.evaluate(async () => {
            const response = await fetch('/comet/handshake?v=1', { method: 'POST' });
            return { status: response.status, body: (await response.json()) as { code: string; message: string } };
          });
          assert.equal(answer.status, 403);
          assert.equal(answer.body.code, 'forbidden-origin');
          assert.match(answer.body.message, /proxy_set_header Host \$http_host/);
          assert.match(answer.body.message, /publicOrigin/);
          // The client: not silence, an error event naming the refusal.
          void page.evaluate(() => (window as unknown as { driver: { start(o: unknown): Promise<void> } }).driver.start({ transport: null, channel: 'c', upChannel: 'u' })).catch(() => undefined);
          const error = await page.waitForFunction(() => {
            const run = (window as unknown as { driver: { run?: { errors: { code?: string; status?: number }[] } } }).driver.run;
            return run?.errors.find((each) => each.code === 'forbidden-origin');
          }, null, { timeout: 30_000 });
          assert.equal(((await error.jsonValue()) as { status?: number }).status, 403);
        } finally {
          await context.close();
        }
        const reports = started!.backend.reports.filter(({ where }) => where === 'origin');
        assert.equal(reports.length, 1, 'reported once, however many requests were refused');
        assert.match(reports[0]!.message, /proxy_set_header Host \$http_host/);
        assert.match(reports[0]!.message, new RegExp(`Host "127\\.0\\.0\\.1:${started!.backend.port}"`));
      });
    }
  });
});
