// PROTOCOL.md §5.3 `poll` and `jsonp`, and §7 (holdMs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { article, SessionClient, endpointPath, eventually, pollingTransports, request, runJsonp, startServer, type TestServer } from './support.ts';

async function subscribed(server: TestServer, channel = 'room/42'): Promise<SessionClient> {
  const client = await SessionClient.create(server);
  assert.deepEqual(await client.subscribe(channel), { type: 'ack', ack: 1, errors: [] });
  return client;
}

for (const transport of pollingTransports) {
  void test(`${article(transport)} ${transport} request without data is held, then answered with an empty batch after holdMs`, async (t) => {
    const server = await startServer({ holdMs: 300 });
    t.after(() => server.stop());
    const client = await subscribed(server);
    const poll = await client.open(transport, { callback: 'cb' });
    await poll.end();
    assert.equal(poll.status, 200);
    assert.deepEqual(poll.frames, [], 'no open frame on polling transports');
    assert.deepEqual(poll.violations, []);
    if (transport === 'poll') assert.equal(poll.text, '[]');
    else assert.equal(poll.text.replace(/\s/g, ''), '/**/cb([]);');
  });

  void test(`a held ${transport} request is answered as soon as a message is published`, async (t) => {
    const server = await startServer({ holdMs: 60_000 });
    t.after(() => server.stop());
    const client = await subscribed(server);
    const poll = await client.open(transport, { callback: 'cb' });
    await eventually(() => server.comet.inspect().openDownstream === 1, 'the poll is held');
    server.comet.publish('room/42', { text: 'hi' });
    await poll.end(20_000);
    assert.deepEqual(poll.frames, [{ type: 'msg', seq: 1, channel: 'room/42', data: { text: 'hi' } }]);
    assert.deepEqual(poll.violations, []);
  });

  void test(`${article(transport)} ${transport} request with buffered messages after since is answered at once with all of them, in order`, async (t) => {
    const server = await startServer({ holdMs: 60_000 });
    t.after(() => server.stop());
    const client = await subscribed(server);
    for (let index = 1; index <= 5; index++) server.comet.publish('room/42', index);
    const poll = await client.open(transport, { since: 2, callback: 'cb' });
    await poll.end(20_000);
    assert.deepEqual(poll.frames, [3, 4, 5].map((seq) => ({ type: 'msg', seq, channel: 'room/42', data: seq })));
  });

  void test(`${article(transport)} ${transport} response carries the push headers and its documented content type`, async (t) => {
    const server = await startServer({ holdMs: 100 });
    t.after(() => server.stop());
    const client = await subscribed(server);
    const poll = await client.open(transport, { callback: 'cb', headers: { 'accept-encoding': 'gzip' } });
    await poll.end();
    assert.equal(poll.headers['content-type'], transport === 'poll' ? 'application/json; charset=utf-8' : 'application/javascript; charset=utf-8');
    assert.equal(poll.headers['cache-control'], 'no-cache, no-store, no-transform');
    assert.equal(poll.headers['x-content-type-options'], 'nosniff');
    assert.equal(poll.headers['x-accel-buffering'], 'no');
    assert.equal(poll.headers['content-encoding'], undefined);
  });
}

void test('a jsonp body is /**/NAME([...frames]); and calls NAME once with the frames', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  server.comet.publish('room/42', 'a');
  const poll = await client.open('jsonp', { callback: '$cb_9' });
  await poll.end();
  assert.equal(poll.text, '/**/$cb_9([{"type":"msg","seq":1,"channel":"room/42","data":"a"}]);');
  const { value, violations } = runJsonp(poll.text, '$cb_9');
  assert.deepEqual(violations, []);
  assert.deepEqual(value, [{ type: 'msg', seq: 1, channel: 'room/42', data: 'a' }]);
});

void test('successive polls with the new since receive each message exactly once', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  let since = 0;
  const received: number[] = [];
  for (let round = 0; round < 5; round++) {
    const poll = await client.open('poll', { since });
    server.comet.publish('room/42', round * 2);
    server.comet.publish('room/42', round * 2 + 1);
    await poll.end(20_000);
    for (const frame of poll.frames) {
      assert.equal(frame.type, 'msg');
      received.push(frame.data as number);
      since = frame.seq as number;
    }
  }
  // Whatever the batching, later polls pick up what earlier ones did not carry.
  const last = await client.open('poll', { since });
  if (received.length < 10) {
    await last.end(20_000);
    received.push(...last.frames.map((frame) => frame.data as number));
  } else last.abort();
  assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

void test('a poll ignores the cache-busting parameter t', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  server.comet.publish('room/42', 'x');
  const response = await request(server, `${endpointPath}/poll?session=${client.session}&since=0&t=${Date.now()}`);
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, [{ type: 'msg', seq: 1, channel: 'room/42', data: 'x' }]);
});

/** Publishes `count` messages of about 1 KB on room/42, numbered from 1. */
function publishBacklog(server: TestServer, count: number) {
  const payload = 'z'.repeat(1000);
  for (let index = 1; index <= count; index++) server.comet.publish('room/42', `${index}:${payload}`);
}

void test('a backlog is answered over several polls whose bound doubles while each answer arrives whole, each message once and in order', async (t) => {
  const server = await startServer({ holdMs: 60_000, bufferMaxBytes: 8 << 20, bufferMaxMessages: 10_000 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  publishBacklog(server, 1000);
  let since = 0;
  const sizes: number[] = [];
  const received: number[] = [];
  while (received.length < 1000 && sizes.length < 50) {
    const poll = await client.open('poll', { since });
    await poll.end(20_000);
    sizes.push(poll.text.length);
    for (const frame of poll.frames) {
      received.push(Number(String(frame.data).split(':')[0]));
      since = frame.seq as number;
    }
  }
  assert.deepEqual(received, Array.from({ length: 1000 }, (_, index) => index + 1));
  // 32 KiB, 64, 128, 256, 512, then the rest (about 1 MB in all).
  assert.ok(sizes[0]! < 34 * 1024, `the first answer carries one batch: ${sizes[0]} bytes`);
  assert.ok(sizes[1]! > 60 * 1024 && sizes[1]! < 68 * 1024, `the second, twice that: ${sizes[1]} bytes`);
  assert.ok(sizes.length <= 7, `${sizes.length} polls for 1,000 messages of 1 KB`);
  assert.ok(sizes.every((size) => size < 1025 * 1024), 'no answer passes 1 MiB');
});

void test('a poll answer lost on the way (the next poll comes with the old since) halves the next one, never below one batch', async (t) => {
  const server = await startServer({ holdMs: 60_000, bufferMaxBytes: 8 << 20, bufferMaxMessages: 10_000 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  publishBacklog(server, 1000);
  const sizes: number[] = [];
  let since = 0;
  // Three answers arrive (32, 64, 128 KiB), then the fourth (256 KiB) is "cut": asked again from
  // the same since, it comes back at 128 KiB, then 64, then 32 and stays there.
  for (let poll = 0; poll < 8; poll++) {
    const answer = await client.open('poll', { since });
    await answer.end(20_000);
    sizes.push(answer.text.length);
    if (poll < 3) since = answer.frames.at(-1)?.seq as number;
  }
  const kib = sizes.map((size) => Math.round(size / 1024 / 32) * 32);
  assert.deepEqual(kib, [32, 64, 128, 256, 128, 64, 32, 32]);
});
