// PROTOCOL.md §2 (version), §3.2 (common headers), §4 (handshake).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointPath, errorBody, request, runJsonp, startServer, type Handshake, type RawResponse } from './support.ts';

const options = { heartbeatMs: 150, holdMs: 300, retryMs: 50, maxStreamBytes: 4096, sessionTimeoutMs: 5000, maxBatchMessages: 7, maxBodyBytes: 9000 };

function assertCommonHeaders(response: RawResponse): void {
  assert.equal(response.headers['cache-control'], 'no-cache, no-store, no-transform');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
}

function assertHandshake(body: unknown): asserts body is Handshake {
  const hello = body as Handshake;
  assert.equal(hello.type, 'handshake');
  assert.equal(hello.v, 1);
  assert.equal(hello.seq, 0);
  assert.deepEqual(hello.transports, ['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp']);
  assert.equal(hello.heartbeatMs, options.heartbeatMs);
  assert.equal(hello.holdMs, options.holdMs);
  assert.equal(hello.retryMs, options.retryMs);
  assert.equal(hello.maxStreamBytes, options.maxStreamBytes);
  assert.equal(hello.sessionTimeoutMs, options.sessionTimeoutMs);
  assert.equal(hello.maxBatchMessages, options.maxBatchMessages);
  assert.equal(hello.maxBodyBytes, options.maxBodyBytes);
  assert.match(hello.session, /^[A-Za-z0-9_-]{22,64}$/);
}

void test('a GET handshake answers 200 JSON with every documented member and the configured values', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  const response = await request(server, `${endpointPath}/handshake?v=1`);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  assertCommonHeaders(response);
  assertHandshake(response.json);
  assert.ok(!response.text.includes('\n'), 'JSON is serialised on one line (§3.3)');
  assert.notEqual(response.body[0], 0xef, 'no byte-order mark');
});

void test('a POST handshake with an empty body, or any body, opens a session too', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  const empty = await request(server, `${endpointPath}/handshake?v=1`, { method: 'POST' });
  assert.equal(empty.status, 200);
  assertHandshake(empty.json);
  const withBody = await request(server, `${endpointPath}/handshake?v=1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ignored' });
  assert.equal(withBody.status, 200);
  assertHandshake(withBody.json);
});

void test('a JSONP handshake calls the callback with the handshake behind /**/ as application/javascript', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  const response = await request(server, `${endpointPath}/handshake?v=1&callback=onHello_1`);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/javascript; charset=utf-8');
  assertCommonHeaders(response);
  assert.ok(response.text.startsWith('/**/onHello_1('), response.text.slice(0, 40));
  const { value, violations } = runJsonp(response.text, 'onHello_1');
  assert.deepEqual(violations, []);
  assertHandshake(value);
});

void test('every handshake issues a fresh session id of at least 128 random bits in URL-safe base64', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  const ids = new Set<string>();
  for (let index = 0; index < 50; index++) {
    const response = await request(server, `${endpointPath}/handshake?v=1`);
    const { session } = response.json as Handshake;
    // 128 bits need 22 base64 characters; fewer cannot hold them.
    assert.match(session, /^[A-Za-z0-9_-]{22,64}$/);
    ids.add(session);
  }
  assert.equal(ids.size, 50);
  // Random ids share no long common prefix (a counter or a timestamp would).
  const sorted = [...ids].sort();
  for (let index = 1; index < sorted.length; index++) {
    const a = sorted[index - 1]!;
    const b = sorted[index]!;
    let common = 0;
    while (common < a.length && a[common] === b[common]) common++;
    assert.ok(common < 10, `ids ${a} and ${b} share ${common} leading characters`);
  }
  assert.equal(server.comet.inspect().sessions, 50);
});

void test('a handshake for another protocol version is refused with 400 unsupported-version', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  for (const version of ['2', '0', '1.0', 'one']) {
    const response = await request(server, `${endpointPath}/handshake?v=${version}`);
    assert.equal(response.status, 400, `v=${version}`);
    assert.equal(errorBody(response).code, 'unsupported-version', `v=${version}`);
    assert.equal(errorBody(response).type, 'error');
    assert.equal(typeof errorBody(response).message, 'string');
    assertCommonHeaders(response);
  }
  assert.equal(server.comet.inspect().sessions, 0);
});

void test('a handshake without v, or with v given twice, is refused with 400 and opens no session', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  const missing = await request(server, `${endpointPath}/handshake`);
  assert.equal(missing.status, 400);
  assert.ok(['bad-request', 'unsupported-version'].includes(String(errorBody(missing).code)), missing.text);
  const twice = await request(server, `${endpointPath}/handshake?v=1&v=1`);
  assert.equal(twice.status, 400);
  assert.equal(errorBody(twice).code, 'bad-request');
  assert.equal(server.comet.inspect().sessions, 0);
});

void test('the handshake ignores the cache-busting parameter t and members it does not know', async (t) => {
  const server = await startServer(options);
  t.after(() => server.stop());
  const response = await request(server, `${endpointPath}/handshake?v=1&t=123456`);
  assert.equal(response.status, 200);
  assertHandshake(response.json);
});

void test('an authenticate hook returning false refuses the handshake with 401 unauthorized', async (t) => {
  const server = await startServer({ ...options, authenticate: () => false });
  t.after(() => server.stop());
  const response = await request(server, `${endpointPath}/handshake?v=1`);
  assert.equal(response.status, 401);
  assert.equal(errorBody(response).code, 'unauthorized');
  assertCommonHeaders(response);
  assert.equal(server.comet.inspect().sessions, 0);
});

void test('an authenticate hook throwing a 403 error refuses the handshake with 403 forbidden', async (t) => {
  const refusal = Object.assign(new Error('no'), { status: 403 });
  const server = await startServer({
    ...options,
    authenticate: () => {
      throw refusal;
    },
    onError: () => undefined,
  });
  t.after(() => server.stop());
  const response = await request(server, `${endpointPath}/handshake?v=1`);
  assert.equal(response.status, 403);
  assert.equal(errorBody(response).code, 'forbidden');
});

void test('a handshake beyond maxSessions is refused with 503 too-many-sessions carrying retryMs', async (t) => {
  const server = await startServer({ ...options, maxSessions: 3 });
  t.after(() => server.stop());
  for (let index = 0; index < 3; index++) assert.equal((await request(server, `${endpointPath}/handshake?v=1`)).status, 200);
  const refused = await request(server, `${endpointPath}/handshake?v=1`);
  assert.equal(refused.status, 503);
  assert.equal(errorBody(refused).code, 'too-many-sessions');
  const retryMs = errorBody(refused).retryMs;
  assert.ok(typeof retryMs === 'number' && retryMs >= options.retryMs, `retryMs ${String(retryMs)}`);
  assertCommonHeaders(refused);
  assert.equal(server.comet.inspect().sessions, 3);
});
