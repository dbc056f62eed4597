// PROTOCOL.md §10: cross-origin rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClient, endpointPath, errorBody, openDownstream, query, request, sendBatch, startServer, type RawResponse } from './support.ts';

const app = 'http://app.example';

function assertAllowedWithCredentials(response: RawResponse, origin: string, label: string): void {
  assert.equal(response.headers['access-control-allow-origin'], origin, label);
  assert.equal(response.headers['access-control-allow-credentials'], 'true', label);
  assert.ok(/\borigin\b/i.test(response.headers.vary ?? ''), `${label}: Vary ${String(response.headers.vary)}`);
}

void test('a preflight from a listed origin is answered with the origin, credentials, GET and POST and the asked headers', async (t) => {
  const server = await startServer({ allowedOrigins: [app] });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  for (const resource of ['handshake?v=1', `send?session=${client.session}`, `xhr?session=${client.session}&since=0`]) {
    const response = await request(server, `${endpointPath}/${resource}`, {
      method: 'OPTIONS',
      headers: { origin: app, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-requested-with' },
    });
    assert.ok(response.status === 204 || response.status === 200, `${resource}: ${response.status}`);
    assertAllowedWithCredentials(response, app, resource);
    const methods = (response.headers['access-control-allow-methods'] ?? '').split(',').map((method) => method.trim());
    assert.ok(methods.includes('GET') && methods.includes('POST'), `methods ${methods.join(',')}`);
    const allowedHeaders = (response.headers['access-control-allow-headers'] ?? '').toLowerCase();
    assert.ok(allowedHeaders.includes('content-type') && allowedHeaders.includes('x-requested-with'), allowedHeaders);
    assert.equal(response.headers['cache-control'], 'no-cache, no-store, no-transform');
  }
  assert.equal(server.comet.inspect().sessions, 1, 'a preflight opens no session');
});

void test('requests from a listed origin get the CORS headers on handshakes, sends, streams, polls and errors', async (t) => {
  const server = await startServer({ allowedOrigins: [app], holdMs: 100 });
  t.after(() => server.stop());
  const hello = await request(server, `${endpointPath}/handshake?v=1`, { headers: { origin: app } });
  assert.equal(hello.status, 200);
  assertAllowedWithCredentials(hello, app, 'handshake');
  const { session } = hello.json as { session: string };
  const send = await sendBatch(server, session, [{ id: 1, type: 'subscribe', channel: 'a' }], { origin: app });
  assert.equal(send.status, 200);
  assertAllowedWithCredentials(send, app, 'send');
  const stream = await openDownstream(server, 'xhr', session, { headers: { origin: app } });
  assert.equal(stream.status, 200);
  assertAllowedWithCredentials({ status: 200, headers: stream.headers, body: Buffer.alloc(0), text: '', json: undefined }, app, 'xhr stream');
  stream.abort();
  const poll = await request(server, `${endpointPath}/poll${query({ session, since: 0 })}`, { headers: { origin: app } });
  assertAllowedWithCredentials(poll, app, 'poll');
  // A page must be able to read why it was refused.
  const refused = await request(server, `${endpointPath}/poll${query({ session, since: 99 })}`, { headers: { origin: app } });
  assert.equal(refused.status, 400);
  assertAllowedWithCredentials(refused, app, 'error');
});

void test('a request whose Origin is neither the endpoint own nor listed is refused with 403 forbidden-origin', async (t) => {
  const server = await startServer({ allowedOrigins: [app] });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const foreign = ['http://evil.example', 'https://app.example', 'http://app.example:8080', 'null', `http://localhost:${server.port}`, 'http://app.example.evil.example'];
  for (const origin of foreign) {
    const paths: [string, string][] = [
      ['GET', 'handshake?v=1'],
      ['POST', 'handshake?v=1'],
      ['POST', `send?session=${client.session}`],
      ['GET', `poll?session=${client.session}&since=0`],
      ['GET', `sse?session=${client.session}&since=0`],
    ];
    for (const [method, path] of paths) {
      const response = await request(server, `${endpointPath}/${path}`, { method, headers: { origin, 'content-type': 'text/plain' }, body: method === 'POST' ? '{"messages":[{"id":1,"type":"subscribe","channel":"a"}]}' : undefined });
      assert.equal(response.status, 403, `${origin} ${method} ${path}`);
      assert.equal(errorBody(response).code, 'forbidden-origin');
      assert.equal(response.headers['access-control-allow-origin'], undefined);
      assert.equal(response.headers['access-control-allow-credentials'], undefined);
    }
    const preflight = await request(server, `${endpointPath}/send?session=${client.session}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined, `preflight from ${origin}`);
    assert.equal(preflight.status, 403, `preflight from ${origin}`);
  }
  assert.equal(server.comet.inspect().sessions, 1, 'no foreign page opened a session');
  assert.deepEqual(await client.subscribe('a'), { type: 'ack', ack: 1, errors: [] }, 'no foreign send was applied');
});

void test('a same-origin Origin header is accepted without being listed', async (t) => {
  const server = await startServer({ allowedOrigins: [] });
  t.after(() => server.stop());
  const hello = await request(server, `${endpointPath}/handshake?v=1`, { headers: { origin: server.origin } });
  assert.equal(hello.status, 200);
  const { session } = hello.json as { session: string };
  const send = await sendBatch(server, session, [{ id: 1, type: 'subscribe', channel: 'a' }], { origin: server.origin });
  assert.equal(send.status, 200);
  assert.deepEqual(send.json, { type: 'ack', ack: 1, errors: [] });
});

void test('requests without an Origin header (scripts, documents, servers) are not refused', async (t) => {
  const server = await startServer({ allowedOrigins: [app], holdMs: 100 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const jsonp = await request(server, `${endpointPath}/jsonp${query({ session: client.session, since: 0, callback: 'cb' })}`);
  assert.equal(jsonp.status, 200);
  assert.equal(jsonp.headers['access-control-allow-origin'], undefined);
});

void test('with allowedOrigins *, any origin is allowed without credentials', async (t) => {
  const server = await startServer({ allowedOrigins: '*' });
  t.after(() => server.stop());
  const hello = await request(server, `${endpointPath}/handshake?v=1`, { headers: { origin: 'http://anything.example:1234' } });
  assert.equal(hello.status, 200);
  assert.equal(hello.headers['access-control-allow-origin'], '*');
  assert.notEqual(hello.headers['access-control-allow-credentials'], 'true');
  const { session } = hello.json as { session: string };
  const preflight = await request(server, `${endpointPath}/send?session=${session}`, { method: 'OPTIONS', headers: { origin: 'https://other.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  assert.ok(preflight.status === 204 || preflight.status === 200, String(preflight.status));
  assert.equal(preflight.headers['access-control-allow-origin'], '*');
  assert.notEqual(preflight.headers['access-control-allow-credentials'], 'true');
  assert.ok((preflight.headers['access-control-allow-methods'] ?? '').includes('POST'));
});

void test('listed origins match case-insensitively in scheme and host, as browsers send them lower-cased', async (t) => {
  const server = await startServer({ allowedOrigins: ['http://App.Example'] });
  t.after(() => server.stop());
  const hello = await request(server, `${endpointPath}/handshake?v=1`, { headers: { origin: app } });
  assert.equal(hello.status, 200);
  assert.equal(hello.headers['access-control-allow-origin'], app);
});
