// PROTOCOL.md §5.2 (since, Last-Event-ID, gap), §8.4 (resume buffer bounds, slow consumers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  article,
  Downstream,
  SessionClient,
  allTransports,
  assertContiguous,
  downstreamPath,
  endpointPath,
  errorBody,
  range,
  request,
  seqsOf,
  startServer,
  type TestServer,
} from './support.ts';

async function withMessages(server: TestServer, count: number, channel = 'room/42'): Promise<SessionClient> {
  const client = await SessionClient.create(server);
  await client.subscribe(channel);
  for (let index = 1; index <= count; index++) server.comet.publish(channel, index);
  return client;
}

/** Frames of a downstream request once it holds `count` msg frames (streaming) or has ended (polling). */
async function framesOf(stream: Downstream, count: number): Promise<void> {
  if (stream.transport === 'poll' || stream.transport === 'jsonp') await stream.end();
  else await stream.messageCount(count);
}

for (const transport of allTransports) {
  void test(`${article(transport)} ${transport} request with since=N receives exactly the messages after N`, async (t) => {
    const server = await startServer({ holdMs: 60_000 });
    t.after(() => server.stop());
    const client = await withMessages(server, 6);
    const stream = await client.open(transport, { since: 3 });
    await framesOf(stream, 3);
    assert.deepEqual(stream.violations, []);
    const streaming = transport !== 'poll' && transport !== 'jsonp';
    if (streaming) assert.deepEqual(stream.frames[0], { type: 'open', seq: 6, heartbeatMs: 150 });
    assert.deepEqual(stream.messages, [4, 5, 6].map((seq) => ({ type: 'msg', seq, channel: 'room/42', data: seq })));
    stream.abort();
  });

  void test(`${article(transport)} ${transport} request with since above the session's seq is refused with 400 bad-since`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const client = await withMessages(server, 2);
    for (const since of ['3', '-1', '1.5', 'abc', '', '0x1', '1e0', ' 1', '99999999999999999999']) {
      const response = await request(server, downstreamPath(transport, client.session, { since: 0 }).replace('since=0', `since=${encodeURIComponent(since)}`));
      assert.equal(response.status, 400, `since=${JSON.stringify(since)}`);
      assert.equal(errorBody(response).code, 'bad-since', `since=${JSON.stringify(since)}`);
    }
    assert.equal(server.comet.inspect().openDownstream, 0);
  });
}

void test('since given twice is malformed: 400 bad-request', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await withMessages(server, 2);
  const response = await request(server, `${endpointPath}/poll?session=${client.session}&since=1&since=1`);
  assert.equal(response.status, 400);
  assert.equal(errorBody(response).code, 'bad-request');
});

void test('an sse request without since resumes from the Last-Event-ID header', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await withMessages(server, 4);
  const raw = await openRawSse(server, `${endpointPath}/sse?session=${client.session}`, { 'last-event-id': '2' });
  await raw.messageCount(2);
  assert.deepEqual(seqsOf(raw.frames), [3, 4]);
  raw.abort();
});

void test('an sse request with both since and Last-Event-ID resumes from since', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await withMessages(server, 4);
  const stream = await client.open('sse', { since: 3, headers: { 'last-event-id': '1' } });
  await stream.messageCount(1);
  assert.deepEqual(seqsOf(stream.frames), [4]);
  stream.abort();
});

void test('an sse request with neither since nor Last-Event-ID, or a malformed Last-Event-ID, is refused with 400 bad-since', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await withMessages(server, 1);
  const bare = await request(server, `${endpointPath}/sse?session=${client.session}`);
  assert.equal(bare.status, 400);
  assert.equal(errorBody(bare).code, 'bad-since');
  for (const lastEventId of ['x', '-1', '2', '1.0']) {
    const response = await request(server, `${endpointPath}/sse?session=${client.session}`, { headers: { 'last-event-id': lastEventId } });
    assert.equal(response.status, 400, `Last-Event-ID ${lastEventId}`);
    assert.equal(errorBody(response).code, 'bad-since');
  }
});

async function openRawSse(server: TestServer, path: string, headers: Record<string, string>): Promise<Downstream> {
  const stream = new Downstream('sse', server, path, { callback: 'cb', headers });
  await stream.response;
  assert.equal(stream.status, 200, stream.text);
  return stream;
}

void test('a resume older than the buffer starts with a gap for exactly the dropped messages (bufferMaxMessages)', async (t) => {
  const server = await startServer({ bufferMaxMessages: 5 });
  t.after(() => server.stop());
  const client = await withMessages(server, 12);
  const stream = await client.open('xhr', { since: 0 });
  await stream.messageCount(5);
  assert.deepEqual(stream.frames.slice(0, 2), [
    { type: 'open', seq: 12, heartbeatMs: 150 },
    { type: 'gap', from: 1, to: 7 },
  ]);
  assert.deepEqual(seqsOf(stream.frames), range(8, 12));
  assert.ok(server.comet.inspect().perSession.every((session) => session.buffered <= 5));
  stream.abort();
});

void test('a resume after part of the buffer starts with a gap from since+1 (example 11.4)', async (t) => {
  const server = await startServer({ bufferMaxMessages: 10 });
  t.after(() => server.stop());
  const client = await withMessages(server, 25);
  const stream = await client.open('xhr', { since: 12 });
  await stream.messageCount(10);
  assert.deepEqual(stream.frames[1], { type: 'gap', from: 13, to: 15 });
  assert.deepEqual(seqsOf(stream.frames), range(16, 25));
  stream.abort();
});

void test('a resume older than the buffer starts with a gap when bufferMaxBytes dropped messages', async (t) => {
  const server = await startServer({ bufferMaxBytes: 1000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  for (let index = 1; index <= 10; index++) server.comet.publish('room/42', `${index}:${'x'.repeat(300)}`);
  const poll = await client.open('poll', { since: 0 });
  await poll.end();
  const gap = poll.frames[0];
  assert.equal(gap?.type, 'gap');
  assert.equal(gap.from, 1);
  const lost = gap.to as number;
  // At most three messages of 300+ bytes fit in 1000 bytes; the newest is always kept.
  assert.ok(lost >= 7 && lost <= 9, `gap to ${lost}`);
  assert.deepEqual(seqsOf(poll.frames), range(lost + 1, 10));
  assert.equal(assertContiguous(poll.frames, 0), 10);
});

void test('messages confirmed by a since are dropped, so an older since afterwards gets a gap for them', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await withMessages(server, 5);
  const first = await client.open('poll', { since: 3 });
  await first.end();
  assert.deepEqual(seqsOf(first.frames), [4, 5]);
  const older = await client.open('poll', { since: 1 });
  await older.end();
  assert.deepEqual(older.frames[0], { type: 'gap', from: 2, to: 3 });
  assert.deepEqual(seqsOf(older.frames), [4, 5]);
});

void test('a session with no messages lost starts without a gap, and its open frame carries the current seq', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await withMessages(server, 3);
  const stream = await client.open('multipart', { since: 3 });
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  assert.deepEqual(stream.frames, [{ type: 'open', seq: 3, heartbeatMs: 150 }]);
  server.comet.publish('room/42', 4);
  await stream.messageCount(1);
  assert.deepEqual(seqsOf(stream.frames), [4]);
  assert.ok(!stream.frames.some((frame) => frame.type === 'gap'));
  stream.abort();
});

void test('a slow consumer costs bounded memory and learns exactly what it missed', async (t) => {
  // The stream is large enough that only back-pressure, not recycling, can bound it.
  const server = await startServer({ maxStreamBytes: 256 * 1024 * 1024, bufferMaxBytes: 512 * 1024, heartbeatMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  const stream = await client.open('xhr', { since: 0 });
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  stream.pause();
  const payload = 'y'.repeat(4096);
  const total = 5000; // about 20 MiB, far beyond what loopback socket buffers absorb
  let mostQueued = 0;
  for (let index = 1; index <= total; index++) {
    server.comet.publish('room/42', `${index}:${payload}`);
    if (index % 100 === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const socket of server.serverSockets) mostQueued = Math.max(mostQueued, socket.writableLength);
    }
  }
  for (const socket of server.serverSockets) mostQueued = Math.max(mostQueued, socket.writableLength);
  assert.ok(mostQueued < 8 * 1024 * 1024, `the server queued ${mostQueued} bytes on a connection that does not drain`);
  assert.ok(server.comet.inspect().perSession.every((session) => session.buffered <= 1000));
  stream.resume();
  // The stream either ends (overflow) or catches up; either way every number is accounted for.
  await stream.until((s) => s.finished || seqsOf(s.frames).includes(total) || s.frames.some((frame) => frame.type === 'gap' && frame.to === total), 'the stream to end or catch up', 60_000);
  const reached = assertContiguous(stream.frames, 0, 'first response');
  if (stream.finished) {
    const close = stream.lastFrame;
    assert.equal(close?.type, 'close');
    assert.ok(close.code === 'overflow' || close.code === 'recycle', JSON.stringify(close));
    assert.equal(close.reconnect, 'now');
    // Polls answer a large backlog in parts (PROTOCOL.md section 5.3), so resume poll by poll.
    let resumed = reached;
    for (let polls = 0; resumed < total && polls < 1000; polls++) {
      const next = await client.open('poll', { since: resumed });
      await next.end();
      resumed = assertContiguous(next.frames, resumed, `resume poll ${polls + 1}`);
    }
    assert.equal(resumed, total);
  } else stream.abort();
});
