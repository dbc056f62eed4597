// PROTOCOL.md §5.2 step 2 and §8.3: one downstream connection per session; a newer request ends
// the older one with `replaced` (examples 11.2 and 11.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SessionClient,
  allTransports,
  closeReplaced,
  eventually,
  seqsOf,
  startServer,
  type Downstream,
  type TestServer,
  type Transport,
} from './support.ts';

const isPolling = (transport: Transport): boolean => transport === 'poll' || transport === 'jsonp';

/** Opens the session's only downstream request and waits until the server holds it. */
async function openHeld(server: TestServer, client: SessionClient, transport: Transport, since = 0): Promise<Downstream> {
  const stream = await client.open(transport, { since });
  if (isPolling(transport)) await eventually(() => server.comet.inspect().openDownstream === 1 || stream.finished, `the ${transport} request to be held`);
  else await stream.frame((frame) => frame.type === 'open', 'the open frame');
  return stream;
}

for (const first of allTransports) {
  for (const second of [first, first === 'poll' ? 'sse' : 'poll'] as const) {
    void test(`a ${second} request for a session ends its open ${first} request with replaced, and only the newer one is served`, async (t) => {
      const server = await startServer({ holdMs: 60_000 });
      t.after(() => server.stop());
      const client = await SessionClient.create(server);
      await client.subscribe('room/42');
      const older = await openHeld(server, client, first);
      const newer = await client.open(second, { since: 0 });
      await older.end();
      assert.equal(older.status, 200);
      assert.deepEqual(older.lastFrame, closeReplaced);
      assert.deepEqual(older.violations, []);
      assert.equal(server.comet.inspect().openDownstream, 1, 'never two open downstream requests');
      server.comet.publish('room/42', 'for the newer one');
      if (isPolling(second)) await newer.end();
      else await newer.messageCount(1);
      assert.deepEqual(newer.messages.map((frame) => frame.data), ['for the newer one']);
      assert.deepEqual(older.messages, []);
      assert.deepEqual(server.serverErrors, []);
      newer.abort();
    });
  }
}

void test('a replacing stream with a later since starts from there (example 11.5)', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  for (let index = 1; index <= 12; index++) server.comet.publish('room/42', index);
  const streamA = await client.open('xhr', { since: 10 });
  await streamA.messageCount(2);
  for (let index = 13; index <= 15; index++) server.comet.publish('room/42', index);
  const streamB = await client.open('xhr', { since: 12 });
  await streamA.end();
  assert.deepEqual(streamA.lastFrame, closeReplaced);
  await streamB.messageCount(3);
  assert.deepEqual(streamB.frames[0], { type: 'open', seq: 15, heartbeatMs: 150 });
  assert.deepEqual(seqsOf(streamB.frames), [13, 14, 15]);
  server.comet.publish('room/42', 16);
  await streamB.messageCount(4);
  assert.deepEqual(seqsOf(streamB.frames), [13, 14, 15, 16]);
  streamB.abort();
});

void test('a storm of concurrent downstream requests for one session leaves exactly one open, and none fails', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  const transports: Transport[] = Array.from({ length: 30 }, (_, index) => allTransports[index % allTransports.length]!);
  const streams = await Promise.all(transports.map((transport) => client.open(transport)));
  await eventually(() => streams.filter((stream) => !stream.finished).length <= 1 && server.comet.inspect().openDownstream === 1, 'all but one request to end');
  for (const stream of streams.filter((candidate) => candidate.finished)) {
    assert.equal(stream.status, 200, stream.path);
    assert.deepEqual(stream.lastFrame, closeReplaced, stream.path);
    assert.deepEqual(stream.messages, []);
  }
  const survivor = streams.find((stream) => !stream.finished);
  assert.ok(survivor !== undefined);
  server.comet.publish('room/42', 'to the survivor');
  await survivor.until((s) => s.messages.length === 1, 'the message on the surviving request');
  assert.deepEqual(server.serverErrors, []);
  survivor.abort();
});

void test('a replaced poll that already ended does not stop the newer poll from receiving the message again (example 11.2)', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  for (let index = 1; index <= 4; index++) server.comet.publish('room/42', index);
  const pollA = await openHeld(server, client, 'poll', 4);
  server.comet.publish('room/42', 5);
  await pollA.end();
  assert.deepEqual(seqsOf(pollA.frames), [5]);
  // Poll B still says since=4 (the client never saw A's answer): message 5 comes again from the buffer.
  const pollB = await client.open('poll', { since: 4 });
  await pollB.end();
  assert.deepEqual(seqsOf(pollB.frames), [5]);
});
