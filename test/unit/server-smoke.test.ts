// Smoke tests of the reference server over real HTTP on 127.0.0.1: the paths a user takes first
// (handshake, subscribe, publish, receive over SSE and poll), plus shutdown and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createCometServer } from '../../server/index.ts';
import type { CometServer, CometServerOptions } from '../../server/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Running {
  comet: CometServer;
  base: string;
  stop(): Promise<void>;
}

async function start(options: CometServerOptions = {}): Promise<Running> {
  const comet = createCometServer(options);
  const server = http.createServer(comet.handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    comet,
    base: `http://127.0.0.1:${port}/comet`,
    async stop() {
      await comet.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A streaming response read as text, with a way to wait for some of it. */
function stream(url: string) {
  let text = '';
  let ended = false;
  const waiters = new Set<() => void>();
  const req = http.get(url, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      for (const wake of waiters) wake();
    });
    res.on('end', () => {
      ended = true;
      for (const wake of waiters) wake();
    });
  });
  req.on('error', () => undefined);
  return {
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    until(predicate: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(text.slice(-400))}`)), timeoutMs);
        const check = () => {
          if (!predicate(text)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(text);
        };
        waiters.add(check);
        check();
      });
    },
    abort: () => req.destroy(),
  };
}

async function handshake(base: string): Promise<string> {
  const answer = await request(`${base}/handshake?v=1`);
  assert.equal(answer.status, 200);
  return (JSON.parse(answer.text) as { session: string }).session;
}

function send(base: string, session: string, messages: unknown[]): Promise<Answer> {
  return request(`${base}/send?session=${session}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({ messages }),
  });
}

test('handshake, subscribe, publish and receive over SSE (example 11.1)', async (t) => {
  const server = await start();
  t.after(() => server.stop());
  const session = await handshake(server.base);
  const sse = stream(`${server.base}/sse?session=${session}&since=0`);
  await sse.until((text) => text.includes('"type":"open"'));
  assert.equal(sse.text, 'retry: 1000\n\ndata: {"type":"open","seq":0,"heartbeatMs":15000}\n\n');
  const ack = await send(server.base, session, [{ id: 1, type: 'subscribe', channel: 'news' }]);
  assert.deepEqual(JSON.parse(ack.text), { type: 'ack', ack: 1, errors: [] });
  assert.equal(server.comet.publish('news', 'hello'), 1);
  await sse.until((text) => text.includes('hello'));
  assert.ok(sse.text.endsWith('id: 1\ndata: {"type":"msg","seq":1,"channel":"news","data":"hello"}\n\n'));
  const inspection = server.comet.inspect();
  assert.equal(inspection.openDownstream, 1);
  const inspected = inspection.perSession[0]!;
  assert.deepEqual(inspected.subscriptions, ['news']);
  assert.equal(inspected.downstreamRequests, 1);
  assert.ok(inspected.maxInFlight <= 2);
  sse.abort();
});

test('a held poll is answered as soon as a client publish reaches its channel, then resumes by since', async (t) => {
  const server = await start({ holdMs: 5000 });
  t.after(() => server.stop());
  const listener = await handshake(server.base);
  const talker = await handshake(server.base);
  await send(server.base, listener, [{ id: 1, type: 'subscribe', channel: 'room/1' }]);
  const poll = request(`${server.base}/poll?session=${listener}&since=0`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(server.comet.inspect().openDownstream, 1);
  await send(server.base, talker, [{ id: 1, type: 'publish', channel: 'room/1', data: { text: 'hi' } }]);
  const answer = await poll;
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-accel-buffering'], 'no');
  assert.deepEqual(JSON.parse(answer.text), [{ type: 'msg', seq: 1, channel: 'room/1', data: { text: 'hi' } }]);
  server.comet.publish('room/1', 2);
  const next = await request(`${server.base}/poll?session=${listener}&since=1`);
  assert.deepEqual(JSON.parse(next.text), [{ type: 'msg', seq: 2, channel: 'room/1', data: 2 }]);
});

test('an idle stream gets heartbeats, and a long one is recycled after maxStreamBytes', async (t) => {
  const server = await start({ heartbeatMs: 100, maxStreamBytes: 4096 });
  t.after(() => server.stop());
  const session = await handshake(server.base);
  const xhr = stream(`${server.base}/xhr?session=${session}&since=0`);
  const openedAt = Date.now();
  await xhr.until((text) => text.includes('{"type":"hb"}'));
  assert.ok(Date.now() - openedAt < 400, 'the heartbeat came about heartbeatMs after the open frame');
  await send(server.base, session, [{ id: 1, type: 'subscribe', channel: 'c' }]);
  for (let index = 0; index < 40; index++) server.comet.publish('c', 'x'.repeat(100));
  await xhr.until(() => xhr.ended);
  const lines = xhr.text.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.at(-1), '{"type":"close","code":"recycle","reconnect":"now"}');
  assert.ok(Buffer.byteLength(xhr.text) >= 4096);
});

test('CORS: a listed origin gets credentials, a foreign one is refused, preflights are answered', async (t) => {
  const server = await start({ allowedOrigins: ['http://app.test:5173'] });
  t.after(() => server.stop());
  const allowed = await request(`${server.base}/handshake?v=1`, { headers: { Origin: 'http://app.test:5173' } });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers['access-control-allow-origin'], 'http://app.test:5173');
  assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
  assert.equal(allowed.headers.vary, 'Origin');
  const foreign = await request(`${server.base}/handshake?v=1`, { headers: { Origin: 'http://evil.test' } });
  assert.equal(foreign.status, 403);
  assert.equal((JSON.parse(foreign.text) as { code: string }).code, 'forbidden-origin');
  const preflight = await request(`${server.base}/send?session=x`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://app.test:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-methods'], 'GET, POST');
  assert.equal(preflight.headers['access-control-allow-headers'], 'content-type');
  const sameOrigin = await request(`${server.base}/handshake?v=1`, { headers: { Origin: server.base.replace('/comet', '') } });
  assert.equal(sameOrigin.status, 200);
  assert.equal(sameOrigin.headers['access-control-allow-origin'], undefined);
});

test('bad input gets a fixed 4xx JSON error that never repeats it, with the section 3.2 headers', async (t) => {
  const server = await start();
  t.after(() => server.stop());
  const session = await handshake(server.base);
  const probe = '<script>alert(1)</script>';
  const answers = await Promise.all([
    request(`${server.base}/jsonp?session=${session}&since=0&callback=${encodeURIComponent(probe)}`),
    request(`${server.base}/poll?session=${encodeURIComponent(probe)}&since=0`),
    request(`${server.base}/send?session=${session}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `{"messages":[${probe}]}` }),
    request(`${server.base}/send?session=${session}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(70_000) }),
    request(`${server.base}/${encodeURIComponent(probe)}`),
  ]);
  assert.deepEqual(answers.map((answer) => answer.status), [400, 400, 400, 413, 404]);
  for (const answer of answers) {
    assert.ok(!answer.text.includes('script'), answer.text);
    assert.equal(answer.headers['cache-control'], 'no-cache, no-store, no-transform');
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.equal((JSON.parse(answer.text) as { type: string }).type, 'error');
  }
});

test('close() ends streams with shutdown and polls likewise, then drops every session', async () => {
  const server = await start({ retryMs: 700 });
  const first = await handshake(server.base);
  const second = await handshake(server.base);
  const sse = stream(`${server.base}/sse?session=${first}&since=0`);
  await sse.until((text) => text.includes('"open"'));
  const poll = request(`${server.base}/poll?session=${second}&since=0`);
  await new Promise((resolve) => setTimeout(resolve, 30));
  await server.comet.close();
  await sse.until(() => sse.ended);
  assert.ok(sse.text.endsWith('data: {"type":"close","code":"shutdown","reconnect":"backoff","retryMs":700}\n\n'));
  assert.deepEqual(JSON.parse((await poll).text), [{ type: 'close', code: 'shutdown', reconnect: 'backoff', retryMs: 700 }]);
  assert.equal(server.comet.inspect().sessions, 0);
  await server.stop();
});

test('after close() the process exits on its own: no timer or handle lingers', async () => {
  const script = `
    import http from 'node:http';
    import { createCometServer } from './server/index.ts';
    const comet = createCometServer({ heartbeatMs: 50 });
    const server = http.createServer(comet.handler).listen(0, '127.0.0.1', async () => {
      const base = 'http://127.0.0.1:' + server.address().port + '/comet';
      const { session } = await (await fetch(base + '/handshake?v=1')).json();
      const response = await fetch(base + '/sse?session=' + session + '&since=0');
      const reader = response.body.getReader();
      await reader.read();
      await comet.close();
      while (!(await reader.read()).done);
      server.close();
      server.closeIdleConnections();
      console.log('closed');
    });
  `;
  const child = spawn(process.execPath, ['--import', './test/support/register.mjs', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  assert.equal(code, 0, output);
  assert.match(output, /closed/);
});

test('the CLI prints its endpoint, serves with default broadcast and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', './test/support/register.mjs', 'server/cli.ts', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    while (!/listening on (http:\S+)/.test(output)) await once(child.stdout, 'data');
    const base = /listening on (http:\S+)/.exec(output)![1]!;
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/comet$/);
    const session = await handshake(base);
    await send(base, session, [{ id: 1, type: 'subscribe', channel: 'chat' }, { id: 2, type: 'publish', channel: 'chat', data: 'echo' }]);
    const poll = await request(`${base}/poll?session=${session}&since=0`);
    assert.deepEqual(JSON.parse(poll.text), [{ type: 'msg', seq: 1, channel: 'chat', data: 'echo' }]);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output);
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('the CLI takes --public-origin (a proxy in front that rewrites Host) and --trust-forwarded', async () => {
  for (const [args, headers] of [
    [['--public-origin', 'https://push.example'], { Origin: 'https://push.example', Host: 'backend:8080' }],
    [['--trust-forwarded'], { Origin: 'https://push.example', 'X-Forwarded-Host': 'push.example', 'X-Forwarded-Proto': 'https' }],
  ] as const) {
    const child = spawn(process.execPath, ['--import', './test/support/register.mjs', 'server/cli.ts', '--port', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      while (!/listening on (http:\S+)/.test(output)) await once(child.stdout, 'data');
      const base = /listening on (http:\S+)/.exec(output)![1]!;
      assert.equal((await request(`${base}/handshake?v=1`, { method: 'POST', headers })).status, 200, args.join(' '));
      const foreign = await request(`${base}/handshake?v=1`, { method: 'POST', headers: { ...headers, Origin: 'https://evil.example' } });
      assert.equal(foreign.status, 403, args.join(' '));
    } finally {
      clearTimeout(timer);
      child.kill('SIGTERM');
    }
  }
});

test('the CLI explains itself with --help and refuses unknown options', async () => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, ['--import', './test/support/register.mjs', 'server/cli.ts', ...args], { cwd: root });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, output };
  };
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.output, /--allowed-origins/);
  const wrong = await run(['--bogus']);
  assert.equal(wrong.code, 2);
});

test('a session without a downstream request for sessionTimeoutMs expires and reads unknown-session', async (t) => {
  const closed: string[] = [];
  const server = await start({ sessionTimeoutMs: 80, onSessionClose: ({ reason }) => void closed.push(reason) });
  t.after(() => server.stop());
  const session = await handshake(server.base);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.deepEqual(closed, ['expired']);
  const answer = await request(`${server.base}/jsonp?session=${session}&since=0&callback=cb`);
  assert.equal(answer.status, 200);
  assert.equal(answer.text, '/**/cb([{"type":"close","code":"unknown-session","reconnect":"handshake"}]);');
  const sent = await send(server.base, session, []);
  assert.deepEqual(JSON.parse(sent.text), { type: 'close', code: 'unknown-session', reconnect: 'handshake' });
});
