// PROTOCOL.md §6.1-§6.3: acks, per-message refusals and exactly-once application of upstream batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SessionClient,
  abortedRequest,
  dataOf,
  endpointPath,
  errorBody,
  query,
  sendBatch,
  startServer,
  type Ack,
  type Downstream,
  type TestServer,
  type UpstreamMessage,
} from './support.ts';

/** A second session that watches `channel` on an xhr stream, to count deliveries. */
async function watch(server: TestServer, channel = 'room/42'): Promise<Downstream> {
  const watcher = await SessionClient.create(server);
  await watcher.subscribe(channel);
  const stream = await watcher.open('xhr');
  await stream.frame((frame) => frame.type === 'open', 'the watcher open frame');
  return stream;
}

/** Publishes a marker and waits for it, so every earlier delivery has been seen. */
async function deliveredBefore(client: SessionClient, watcher: Downstream, channel = 'room/42'): Promise<unknown[]> {
  const marker = `end-${client.nextId}`;
  await client.publish(channel, marker);
  await watcher.frame((frame) => frame.type === 'msg' && frame.data === marker, `the marker ${marker}`);
  const data = dataOf(watcher.frames);
  return data.slice(0, data.indexOf(marker));
}

const publish = (id: number, data: unknown, channel = 'room/42'): UpstreamMessage => ({ id, type: 'publish', channel, data });

void test('subscribe, publish and unsubscribe are each acknowledged with the highest applied id', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const stream = await client.open('xhr');
  assert.deepEqual(await client.subscribe('room/42'), { type: 'ack', ack: 1, errors: [] });
  assert.deepEqual(await client.publish('room/42', 'mine'), { type: 'ack', ack: 2, errors: [] });
  await stream.messageCount(1);
  assert.deepEqual(stream.messages, [{ type: 'msg', seq: 1, channel: 'room/42', data: 'mine' }], 'the sender receives its own publish by default');
  assert.deepEqual(await client.send([{ type: 'unsubscribe', channel: 'room/42' }]), { type: 'ack', ack: 3, errors: [] });
  await client.subscribe('other');
  server.comet.publish('room/42', 'after unsubscribe');
  server.comet.publish('other', 'still subscribed');
  await stream.frame((frame) => frame.data === 'still subscribed', 'the message on the remaining channel');
  assert.deepEqual(dataOf(stream.frames), ['mine', 'still subscribed']);
  stream.abort();
});

void test('a subscribe followed by a publish in one batch is applied in that order', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const stream = await client.open('xhr');
  const ack = await client.send([{ type: 'subscribe', channel: 'news' }, { type: 'publish', channel: 'news', data: 'first' }]);
  assert.deepEqual(ack, { type: 'ack', ack: 2, errors: [] });
  await stream.messageCount(1);
  assert.deepEqual(dataOf(stream.frames), ['first']);
  stream.abort();
});

void test('a publish batch retried after its ack was lost is applied exactly once', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const watcher = await watch(server);
  const client = await SessionClient.create(server);
  const batch = [publish(1, 'a'), publish(2, 'b')];
  assert.deepEqual(await client.sendNumbered(batch), { type: 'ack', ack: 2, errors: [] });
  // The answer was "lost": the client re-sends the same messages with the same ids (example 11.3).
  assert.deepEqual(await client.sendNumbered(batch), { type: 'ack', ack: 2, errors: [] });
  assert.deepEqual(await client.sendNumbered(batch), { type: 'ack', ack: 2, errors: [] });
  client.number([{ type: 'publish', channel: 'x', data: 0 }, { type: 'publish', channel: 'x', data: 0 }]);
  assert.deepEqual(await deliveredBefore(client, watcher), ['a', 'b']);
  watcher.abort();
});

for (const at of ['headers-sent', 'mid-body', 'body-sent'] as const) {
  void test(`a publish batch whose request was cut (${at}) and then retried is applied exactly once`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const watcher = await watch(server);
    const client = await SessionClient.create(server);
    const batch = client.number([
      { type: 'publish', channel: 'room/42', data: 'a' },
      { type: 'publish', channel: 'room/42', data: 'b' },
    ]);
    await abortedRequest(server, `${endpointPath}/send${query({ session: client.session })}`, {
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ messages: batch }),
      at,
    });
    assert.deepEqual(await client.sendNumbered(batch), { type: 'ack', ack: 2, errors: [] });
    assert.deepEqual(await deliveredBefore(client, watcher), ['a', 'b']);
    assert.deepEqual(server.serverErrors, []);
    watcher.abort();
  });
}

void test('the same batch sent many times at once is applied once, and every answer acknowledges it', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const watcher = await watch(server);
  const client = await SessionClient.create(server);
  const batch = client.number(Array.from({ length: 20 }, (_, index) => ({ type: 'publish' as const, channel: 'room/42', data: index })));
  const answers = await Promise.all(Array.from({ length: 8 }, () => sendBatch(server, client.session, batch)));
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { type: 'ack', ack: 20, errors: [] });
  }
  assert.deepEqual(await deliveredBefore(client, watcher), Array.from({ length: 20 }, (_, index) => index));
  // §6.3: requests of one session are processed one at a time.
  const session = server.comet.inspect().perSession.find((entry) => entry.id === client.session);
  assert.ok(session !== undefined && session.maxInFlight <= 1, `maxInFlight ${String(session?.maxInFlight)}`);
  watcher.abort();
});

void test('a message after a hole is not applied; the ack says where the client stands', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const watcher = await watch(server);
  const client = await SessionClient.create(server);
  assert.deepEqual(await client.sendNumbered([publish(1, 'one')]), { type: 'ack', ack: 1, errors: [] });
  assert.deepEqual(await client.sendNumbered([publish(3, 'three-early'), publish(4, 'four-early')]), { type: 'ack', ack: 1, errors: [] });
  assert.deepEqual(await client.sendNumbered([publish(2, 'two'), publish(3, 'three'), publish(5, 'five-early'), publish(6, 'six-early')]), { type: 'ack', ack: 3, errors: [] });
  assert.deepEqual(await client.sendNumbered([publish(4, 'four')]), { type: 'ack', ack: 4, errors: [] });
  client.number([1, 2, 3, 4].map(() => ({ type: 'subscribe' as const, channel: 'x' })));
  assert.deepEqual(await deliveredBefore(client, watcher), ['one', 'two', 'three', 'four']);
  watcher.abort();
});

void test('a refused message counts as applied and its refusal is reported again when retried', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const batch: UpstreamMessage[] = [
    { id: 1, type: 'subscribe', channel: 'bad channel' },
    { id: 2, type: 'subscribe', channel: 'good' },
    { id: 3, type: 'publish', channel: '', data: 1 },
  ];
  const expected = { type: 'ack', ack: 3, errors: [{ id: 1, code: 'bad-channel' }, { id: 3, code: 'bad-channel' }] };
  assert.deepEqual(await client.sendNumbered(batch), expected);
  assert.deepEqual(await client.sendNumbered(batch), expected);
  assert.deepEqual(await client.sendNumbered(batch.slice(2)), { type: 'ack', ack: 3, errors: [{ id: 3, code: 'bad-channel' }] });
});

void test('channel names outside [A-Za-z0-9_.:/@~-]{1,128} are refused per message with bad-channel', async (t) => {
  const server = await startServer({ maxChannelsPerSession: 1000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const bad = ['', 'a'.repeat(129), 'a b', 'room#1', 'é', 'a\nb', 'a?b', 'a%2Fb', '<script>', 'a\u0000b', 'a,b', '*'];
  const good = ['a'.repeat(128), 'room/42', 'a.b:c/d@e~f-g_h', 'UPPER-lower_0.9', '~', '-'];
  const messages = [...bad, ...good].map((channel) => ({ type: 'subscribe' as const, channel }));
  const ack = await client.send(messages);
  assert.equal(ack.ack, messages.length);
  assert.deepEqual(ack.errors, bad.map((_, index) => ({ id: index + 1, code: 'bad-channel' })));
  const publishes = await client.send(bad.map((channel) => ({ type: 'publish' as const, channel, data: 1 })));
  assert.equal(publishes.errors.length, bad.length);
  assert.ok(publishes.errors.every((error) => error.code === 'bad-channel'));
});

void test('authorizeSubscribe and authorizePublish refusals are per-message forbidden errors, and later messages still apply', async (t) => {
  const server = await startServer({
    authorizeSubscribe: (ctx: { channel: string }) => !ctx.channel.startsWith('secret/'),
    authorizePublish: (ctx: { channel: string }) => !ctx.channel.startsWith('readonly/'),
  });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const stream = await client.open('xhr');
  const ack = await client.send([
    { type: 'subscribe', channel: 'secret/plans' },
    { type: 'subscribe', channel: 'readonly/news' },
    { type: 'publish', channel: 'readonly/news', data: 'forged' },
    { type: 'publish', channel: 'secret/plans', data: 'allowed to publish' },
    { type: 'subscribe', channel: 'open' },
    { type: 'publish', channel: 'open', data: 'fine' },
  ]);
  assert.deepEqual(ack, { type: 'ack', ack: 6, errors: [{ id: 1, code: 'forbidden' }, { id: 3, code: 'forbidden' }] });
  server.comet.publish('secret/plans', 'must not arrive');
  server.comet.publish('readonly/news', 'news');
  await stream.frame((frame) => frame.data === 'news', 'the news');
  assert.deepEqual(dataOf(stream.frames), ['fine', 'news']);
  stream.abort();
});

void test('more subscriptions than maxChannelsPerSession are refused with too-many-channels', async (t) => {
  const server = await startServer({ maxChannelsPerSession: 2 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const ack = await client.subscribe('a', 'b', 'a', 'c');
  assert.deepEqual(ack, { type: 'ack', ack: 4, errors: [{ id: 4, code: 'too-many-channels' }] });
  await client.send([{ type: 'unsubscribe', channel: 'a' }]);
  assert.deepEqual(await client.subscribe('c'), { type: 'ack', ack: 6, errors: [] });
});

void test('a batch with one message not of the message form is refused whole with 400 bad-json and nothing applies', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const watcher = await watch(server);
  const client = await SessionClient.create(server);
  const invalid: unknown[] = [
    { id: 0, type: 'publish', channel: 'room/42', data: 1 },
    { id: -2, type: 'publish', channel: 'room/42', data: 1 },
    { id: 2.5, type: 'publish', channel: 'room/42', data: 1 },
    { id: '2', type: 'publish', channel: 'room/42', data: 1 },
    { type: 'publish', channel: 'room/42', data: 1 },
    { id: 2, type: 'shout', channel: 'room/42' },
    { id: 2, type: 'publish', channel: 'room/42' },
    { id: 2, channel: 'room/42' },
    'not an object',
    null,
  ];
  for (const message of invalid) {
    const response = await sendBatch(server, client.session, [publish(1, 'must not apply'), message]);
    assert.equal(response.status, 400, JSON.stringify(message));
    assert.equal(errorBody(response).code, 'bad-json', JSON.stringify(message));
  }
  // Had any first message applied, this different message 1 would be skipped as a duplicate.
  assert.deepEqual(await client.sendNumbered([publish(1, 'applied')]), { type: 'ack', ack: 1, errors: [] });
  client.number([{ type: 'subscribe', channel: 'x' }]);
  assert.deepEqual(await deliveredBefore(client, watcher), ['applied']);
  watcher.abort();
});

void test('a publish whose data is null, false, 0 or empty is a valid publish', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const watcher = await watch(server);
  const client = await SessionClient.create(server);
  const ack: Ack = await client.publish('room/42', null, false, 0, '', [], {});
  assert.deepEqual(ack, { type: 'ack', ack: 6, errors: [] });
  assert.deepEqual(await deliveredBefore(client, watcher), [null, false, 0, '', [], {}]);
  watcher.abort();
});

void test('a send with application/json; charset=utf-8 is accepted like text/plain', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const response = await sendBatch(server, client.session, [{ id: 1, type: 'subscribe', channel: 'a' }], { 'content-type': 'application/json; charset=utf-8' });
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, { type: 'ack', ack: 1, errors: [] });
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(response.headers['cache-control'], 'no-cache, no-store, no-transform');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
});

void test('an empty batch is answered with the current ack', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('a', 'b');
  const response = await sendBatch(server, client.session, []);
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, { type: 'ack', ack: 2, errors: [] });
});
