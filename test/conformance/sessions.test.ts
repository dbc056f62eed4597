// PROTOCOL.md §5.2 step 1, §8.1 and §8.4 and example 11.7: unknown and expired sessions are told,
// in each transport's own encoding, to handshake again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  article,
  SessionClient,
  allTransports,
  closeUnknownSession,
  endpointPath,
  eventually,
  openDownstream,
  query,
  request,
  runJsonp,
  sendBatch,
  startServer,
  unknownSessionId,
} from './support.ts';

for (const transport of allTransports) {
  void test(`${article(transport)} ${transport} request for an unknown session is answered 200 with one close unknown-session frame`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const stream = await openDownstream(server, transport, unknownSessionId, { since: 40 });
    await stream.end();
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['cache-control'], 'no-cache, no-store, no-transform');
    assert.deepEqual(stream.violations, []);
    assert.deepEqual(stream.frames, [closeUnknownSession]);
    assert.equal(server.comet.inspect().sessions, 0, 'an unknown id does not create a session');
  });
}

void test('a send for an unknown session is answered 200 with a close unknown-session, as JSON or JSONP', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const response = await sendBatch(server, unknownSessionId, [{ id: 1, type: 'subscribe', channel: 'a' }]);
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, closeUnknownSession);
  const viaGet = await request(server, `${endpointPath}/send${query({ session: unknownSessionId, callback: 'cb', messages: '[{"id":1,"type":"subscribe","channel":"a"}]' })}`);
  assert.equal(viaGet.status, 200);
  const { value, violations } = runJsonp(viaGet.text, 'cb');
  assert.deepEqual(violations, []);
  assert.deepEqual(value, closeUnknownSession);
});

void test('a session with no downstream request for sessionTimeoutMs expires, and its requests get unknown-session', async (t) => {
  const server = await startServer({ sessionTimeoutMs: 200 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  await eventually(() => server.comet.inspect().sessions === 0, 'the idle session to expire', 15_000);
  const poll = await client.open('poll', { since: 0 });
  await poll.end();
  assert.deepEqual(poll.frames, [closeUnknownSession]);
  const send = await sendBatch(server, client.session, [{ id: 2, type: 'subscribe', channel: 'b' }]);
  assert.deepEqual(send.json, closeUnknownSession);
  // Example 11.7: handshake again, message ids restart at 1, the new session works.
  const fresh = await SessionClient.create(server);
  assert.notEqual(fresh.session, client.session);
  assert.deepEqual(await fresh.subscribe('room/42'), { type: 'ack', ack: 1, errors: [] });
});

void test('a session with an open streaming request does not expire, however long the stream lasts', async (t) => {
  const server = await startServer({ sessionTimeoutMs: 200, heartbeatMs: 50 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  const stream = await client.open('xhr');
  const started = Date.now();
  // Wait, by counting heartbeats, until the stream has outlived sessionTimeoutMs several times.
  await stream.until((s) => s.frames.filter((frame) => frame.type === 'hb').length >= 10 && Date.now() - started > 1000, 'ten heartbeats over a second', 30_000);
  assert.equal(server.comet.inspect().sessions, 1);
  server.comet.publish('room/42', 'still here');
  await stream.messageCount(1);
  stream.abort();
});

void test('a session kept alive by successive polls does not expire', async (t) => {
  const server = await startServer({ sessionTimeoutMs: 300, holdMs: 100 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const started = Date.now();
  let polls = 0;
  while (Date.now() - started < 1500) {
    const poll = await client.open('poll', { since: 0 });
    await poll.end();
    assert.deepEqual(poll.frames, [], `poll ${polls}`);
    polls++;
  }
  assert.equal(server.comet.inspect().sessions, 1);
});

void test('the session count drops as sessions expire, so handshakes refused for too-many-sessions succeed later', async (t) => {
  const server = await startServer({ sessionTimeoutMs: 200, maxSessions: 2 });
  t.after(() => server.stop());
  await SessionClient.create(server);
  await SessionClient.create(server);
  assert.equal((await request(server, `${endpointPath}/handshake?v=1`)).status, 503);
  await eventually(() => server.comet.inspect().sessions === 0, 'both sessions to expire', 15_000);
  assert.equal((await request(server, `${endpointPath}/handshake?v=1`)).status, 200);
});
