// HAProxy 2.6 (Debian, http mode) in front of the reference server: the README's config (with
// `option http-no-delay`), and the same with 2 s client and server timeouts under a 5 s heartbeat.
// Started by each test on a free loopback port (test/proxies/middlebox.ts), never as a service.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { scenarioTests } from './harness.ts';
import { SCENARIOS } from './scenarios.ts';

describe('HAProxy 2.6 in front of the server', () => {
  scenarioTests('haproxy-readme', { negotiated: 'eventsource' });

  scenarioTests('haproxy-timeout', {
    negotiated: 'eventsource',
    async extra(started) {
      // The cut is real: an idle stream ends before the server's first heartbeat would have come.
      const get = (path: string) => new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: started.box.port, path }, resolve).on('error', reject);
      });
      let text = '';
      for await (const chunk of await get('/comet/handshake?v=1')) text += String(chunk);
      const stream = await get(`/comet/sse?session=${(JSON.parse(text) as { session: string }).session}&since=0`);
      const opened = Date.now();
      stream.resume();
      await new Promise((resolve) => { stream.once('close', resolve); });
      const lastedMs = Date.now() - opened;
      assert.ok(lastedMs < (SCENARIOS['haproxy-timeout'].server.heartbeatMs ?? 0), `the idle stream lasted ${lastedMs} ms`);
    },
  });
});
