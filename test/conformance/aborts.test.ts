// Requests aborted at every stage never crash the server, never leak open downstream requests, and
// leave the session working (PROTOCOL.md §5.2, §6.3, §8.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  article,
  SessionClient,
  abortedRequest,
  dataOf,
  downstreamPath,
  endpointPath,
  eventually,
  query,
  startServer,
  streamingTransports,
  type TestServer,
} from './support.ts';

async function assertSessionWorks(server: TestServer, client: SessionClient, expected: unknown[]): Promise<void> {
  const poll = await client.open('poll', { since: 0 });
  await poll.end();
  assert.equal(poll.status, 200);
  assert.deepEqual(dataOf(poll.frames), expected);
  await eventually(() => server.comet.inspect().openDownstream === 0, 'no downstream request left open');
  assert.deepEqual(server.serverErrors, []);
}

void test('a long poll aborted while held leaves the session working and nothing open', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  for (const transport of ['poll', 'jsonp'] as const) {
    const poll = await client.open(transport);
    await eventually(() => server.comet.inspect().openDownstream === 1, 'the poll to be held');
    poll.abort();
    await eventually(() => server.comet.inspect().openDownstream === 0, 'the aborted poll to be released');
  }
  server.comet.publish('room/42', 'after the aborts');
  await assertSessionWorks(server, client, ['after the aborts']);
});

for (const transport of streamingTransports) {
  void test(`${article(transport)} ${transport} stream aborted mid-stream keeps every later message for the next request`, async (t) => {
    const server = await startServer({ holdMs: 60_000 });
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    await client.subscribe('room/42');
    const stream = await client.open(transport);
    server.comet.publish('room/42', 'before');
    await stream.messageCount(1);
    stream.abort();
    await eventually(() => server.comet.inspect().openDownstream === 0, 'the aborted stream to be released');
    server.comet.publish('room/42', 'after');
    await assertSessionWorks(server, client, ['before', 'after']);
  });

  void test(`${article(transport)} ${transport} stream aborted right after its headers never crashes the server`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    await client.subscribe('room/42');
    for (let round = 0; round < 10; round++) {
      await abortedRequest(server, downstreamPath(transport, client.session), { method: 'GET', at: 'response' });
      await abortedRequest(server, downstreamPath(transport, client.session), { method: 'GET', at: 'headers-sent' });
    }
    server.comet.publish('room/42', 'still fine');
    await assertSessionWorks(server, client, ['still fine']);
  });

  void test(`${article(transport)} ${transport} stream aborted while a large batch is being written never crashes the server`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    await client.subscribe('room/42');
    const stream = await client.open(transport);
    await stream.frame((frame) => frame.type === 'open', 'the open frame');
    for (let index = 0; index < 300; index++) server.comet.publish('room/42', 'w'.repeat(1000));
    stream.abort();
    for (let index = 0; index < 300; index++) server.comet.publish('room/42', 'v'.repeat(1000));
    await eventually(() => server.comet.inspect().openDownstream === 0, 'the aborted stream to be released');
    const poll = await client.open('poll', { since: 600 });
    server.comet.publish('room/42', 'last');
    await poll.end();
    assert.deepEqual(dataOf(poll.frames), ['last']);
    assert.deepEqual(server.serverErrors, []);
  });
}

void test('a send aborted in the middle of its body upload applies nothing and the session goes on', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  const body = JSON.stringify({ messages: [{ id: 2, type: 'publish', channel: 'room/42', data: 'x'.repeat(20_000) }] });
  for (let round = 0; round < 10; round++) {
    await abortedRequest(server, `${endpointPath}/send${query({ session: client.session })}`, { headers: { 'content-type': 'text/plain' }, body, at: 'mid-body' });
  }
  // Message 2 was never complete, so a different message 2 is applied now.
  assert.deepEqual(await client.publish('room/42', 'complete'), { type: 'ack', ack: 2, errors: [] });
  await assertSessionWorks(server, client, ['complete']);
});

void test('a handshake or a send aborted before its answer never crashes the server', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  for (let round = 0; round < 10; round++) {
    await abortedRequest(server, `${endpointPath}/handshake?v=1`, { method: 'GET', at: 'headers-sent' });
    await abortedRequest(server, `${endpointPath}/handshake?v=1`, { method: 'POST', body: 'x'.repeat(1000), at: 'mid-body' });
  }
  const client = await SessionClient.create(server);
  for (let round = 0; round < 10; round++) {
    await abortedRequest(server, `${endpointPath}/send${query({ session: client.session })}`, { headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ messages: [] }), at: 'body-sent' });
  }
  assert.deepEqual(await client.subscribe('room/42'), { type: 'ack', ack: 1, errors: [] });
  assert.deepEqual(server.serverErrors, []);
});

void test('a JSONP poll aborted while it is being answered leaves the messages for the next poll', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  for (let index = 1; index <= 50; index++) server.comet.publish('room/42', index);
  for (let round = 0; round < 5; round++) {
    await abortedRequest(server, downstreamPath('jsonp', client.session, { since: 0 }), { method: 'GET', at: 'response' });
  }
  const poll = await client.open('jsonp', { since: 0 });
  await poll.end();
  assert.deepEqual(dataOf(poll.frames), Array.from({ length: 50 }, (_, index) => index + 1));
  assert.deepEqual(server.serverErrors, []);
});
