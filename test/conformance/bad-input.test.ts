// PROTOCOL.md §3.1, §3.3 and §9: every malformed request gets its documented 4xx and a fixed-text JSON error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClient, endpointPath, errorBody, query, request, sendBatch, startServer, type RawResponse } from './support.ts';

function assertError(response: RawResponse, status: number, code: string, label: string): void {
  assert.equal(response.status, status, `${label}: ${response.text}`);
  const body = errorBody(response);
  assert.equal(body.type, 'error', label);
  assert.equal(body.code, code, label);
  assert.equal(typeof body.message, 'string', label);
  assert.match(response.headers['content-type'] ?? '', /^application\/json/, label);
  assert.equal(response.headers['cache-control'], 'no-cache, no-store, no-transform', label);
  assert.equal(response.headers['x-content-type-options'], 'nosniff', label);
}

void test('a body that is not JSON is refused with 400 bad-json, whatever the bytes', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const bodies = ['', 'hello', '{', '{"messages":[', '{"messages":[{"id":1,}]}', '{"messages":[]} trailing', 'null', '[]', '{}', '{"messages":{}}', '{"messages":"[]"}', '\u0000', Buffer.from([0xff, 0xfe, 0xfd]).toString('latin1')];
  for (const body of bodies) {
    const response = await request(server, `${endpointPath}/send${query({ session: client.session })}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body });
    assertError(response, 400, 'bad-json', `body ${JSON.stringify(body)}`);
  }
  for (const messages of ['not json', '{"id":1}', '[{"id":1,"type":"subscribe"', '']) {
    const response = await request(server, `${endpointPath}/send${query({ session: client.session, callback: 'cb', messages })}`);
    assert.equal(response.status, 400, `messages ${JSON.stringify(messages)}`);
    assert.equal(errorBody(response).code, 'bad-json', `messages ${JSON.stringify(messages)}`);
  }
});

void test('a GET send without the messages parameter is refused with 400', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const response = await request(server, `${endpointPath}/send${query({ session: client.session, callback: 'cb' })}`);
  assert.equal(response.status, 400);
  assert.ok(['bad-request', 'bad-json'].includes(String(errorBody(response).code)), response.text);
});

for (const key of ['__proto__', 'constructor', 'prototype']) {
  void test(`a ${key} key anywhere in the JSON is refused with 400 forbidden-key and pollutes nothing`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    const raw = (inner: string): string => `{"messages":[{"id":1,"type":"publish","channel":"a","data":${inner}}]}`;
    const bodies = [
      raw(`{"${key}":{"polluted":true}}`),
      raw(`{"a":[1,{"b":{"${key}":1}}]}`),
      raw(`[[[[{"${key}":null}]]]]`),
      // The same key spelled with JSON escapes: only a check after parsing sees it.
      raw(`{"${key.replace('_', '\\u005f').replace('c', '\\u0063').replace('p', '\\u0070')}":{"polluted":true}}`),
      `{"${key}":{"polluted":true},"messages":[]}`,
      `{"messages":[{"id":1,"type":"subscribe","channel":"a","${key}":{"polluted":true}}]}`,
    ];
    for (const body of bodies) {
      const response = await request(server, `${endpointPath}/send${query({ session: client.session })}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assertError(response, 400, 'forbidden-key', body);
    }
    const viaGet = await request(server, `${endpointPath}/send${query({ session: client.session, callback: 'cb', messages: `[{"id":1,"type":"publish","channel":"a","data":{"${key}":{"polluted":true}}}]` })}`);
    assert.equal(viaGet.status, 400);
    assert.equal(errorBody(viaGet).code, 'forbidden-key');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
    // Nothing applied: message 1 is still free.
    assert.deepEqual(await client.sendNumbered([{ id: 1, type: 'subscribe', channel: 'a' }]), { type: 'ack', ack: 1, errors: [] });
  });
}

void test('keys that merely contain a forbidden word are accepted', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const ack = await client.publish('a', { constructorName: 1, __proto: 2, prototypes: 3, text: '__proto__ constructor prototype' });
  assert.deepEqual(ack, { type: 'ack', ack: 1, errors: [] });
});

void test('a deeply nested body is answered with a 4xx, not a crash', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  for (const depth of [5000, 20_000, 30_000]) {
    const body = `{"messages":[{"id":1,"type":"publish","channel":"a","data":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    const response = await request(server, `${endpointPath}/send${query({ session: client.session })}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    assert.ok(response.status === 200 || (response.status >= 400 && response.status < 500), `depth ${depth}: ${response.status}`);
  }
  assert.deepEqual(server.serverErrors, []);
  const after = await sendBatch(server, client.session, [{ id: 5, type: 'subscribe', channel: 'b' }]);
  assert.equal(after.status, 200);
});

void test('a resource with the wrong method is refused with 405 and an Allow header', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const cases: [string, string, string[]][] = [
    ['PUT', 'handshake?v=1', ['GET', 'POST']],
    ['DELETE', 'handshake?v=1', ['GET', 'POST']],
    ['PUT', `send?session=${client.session}`, ['GET', 'POST']],
    ['PATCH', `send?session=${client.session}`, ['GET', 'POST']],
    ...(['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp'] as const).flatMap((transport): [string, string, string[]][] => [
      ['POST', `${transport}?session=${client.session}&since=0&callback=cb`, ['GET']],
      ['DELETE', `${transport}?session=${client.session}&since=0&callback=cb`, ['GET']],
    ]),
  ];
  for (const [method, path, allowed] of cases) {
    const response = await request(server, `${endpointPath}/${path}`, { method, headers: { 'content-type': 'text/plain' }, body: method === 'DELETE' ? undefined : '{}' });
    assertError(response, 405, 'method-not-allowed', `${method} ${path}`);
    const allow = (response.headers.allow ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '' && item !== 'HEAD' && item !== 'OPTIONS');
    assert.deepEqual(allow.sort(), [...allowed].sort(), `Allow for ${method} ${path}`);
  }
  assert.equal(server.comet.inspect().openDownstream, 0);
});

void test('paths outside the endpoint, and unknown resources under it, are answered 404 not-found', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  for (const path of ['/', '/comet', '/comet/', '/cometx/handshake?v=1', '/other/handshake?v=1', '/comet/nope', '/comet/handshake/extra?v=1', '/comet/SSE?session=x', '/favicon.ico']) {
    const response = await request(server, path);
    assertError(response, 404, 'not-found', path);
  }
  assert.equal(server.comet.inspect().sessions, 0);
});

void test('a malformed session id is refused with 400 bad-session-id on every resource', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const ids = ['short', 'a'.repeat(21), 'a'.repeat(65), `${'a'.repeat(22)}=`, `${'a'.repeat(22)}+`, `${'a'.repeat(22)}/`, `${'a'.repeat(22)} `, `${'a'.repeat(21)}é`, `../${'a'.repeat(22)}`];
  for (const session of ids) {
    for (const resource of ['sse', 'xhr', 'multipart', 'iframe', 'poll', 'jsonp']) {
      const response = await request(server, `${endpointPath}/${resource}${query({ session, since: 0, callback: 'cb' })}`);
      assertError(response, 400, 'bad-session-id', `${resource} with ${JSON.stringify(session)}`);
      assert.ok(!response.text.includes(session), 'the error does not repeat the id');
    }
    const send = await sendBatch(server, session, []);
    assertError(send, 400, 'bad-session-id', `send with ${JSON.stringify(session)}`);
  }
});

void test('a missing or repeated parameter is refused with 400 bad-request', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const id = client.session;
  for (const path of [`poll?since=0`, `xhr?since=0`, `send`]) {
    const response = await request(server, `${endpointPath}/${path}`, { method: path === 'send' ? 'POST' : 'GET', headers: { 'content-type': 'text/plain' }, body: path === 'send' ? '{"messages":[]}' : undefined });
    assert.equal(response.status, 400, path);
    assert.ok(['bad-request', 'bad-session-id'].includes(String(errorBody(response).code)), `${path}: ${response.text}`);
  }
  for (const path of [`poll?session=${id}&session=${id}&since=0`, `sse?session=${id}&since=0&since=0`, `jsonp?session=${id}&since=0&callback=a&callback=a`, `handshake?v=1&callback=a&callback=a`]) {
    const response = await request(server, `${endpointPath}/${path}`);
    assertError(response, 400, 'bad-request', path);
  }
  const sendTwice = await request(server, `${endpointPath}/send?session=${id}&session=${id}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"messages":[]}' });
  assertError(sendTwice, 400, 'bad-request', 'send with session twice');
  for (const path of [`jsonp?session=${id}&since=0&callback=%ZZ`, `poll?session=%E0%A4%A&since=0`]) {
    const response = await request(server, `${endpointPath}/${path}`);
    assert.equal(response.status, 400, path);
  }
  const missingCallback = await request(server, `${endpointPath}/jsonp?session=${id}&since=0`);
  assert.equal(missingCallback.status, 400);
  assert.ok(['bad-request', 'bad-callback'].includes(String(errorBody(missingCallback).code)), missingCallback.text);
});

void test('error messages are fixed text that never repeat the input', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const marker = 'ZQXJ<img src=x onerror=alert(1)>';
  const responses = [
    await request(server, `${endpointPath}/handshake?v=${encodeURIComponent(marker)}`),
    await request(server, `${endpointPath}/poll${query({ session: client.session, since: marker })}`),
    await request(server, `${endpointPath}/${encodeURIComponent(marker)}`),
    await request(server, `${endpointPath}/send${query({ session: client.session })}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: marker }),
    await request(server, `${endpointPath}/send${query({ session: client.session, callback: 'cb', messages: marker })}`),
  ];
  for (const response of responses) {
    assert.ok(response.status >= 400 && response.status < 500, response.text);
    assert.ok(!response.text.includes('ZQXJ'), response.text);
  }
});
