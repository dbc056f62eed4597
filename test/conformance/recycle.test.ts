// PROTOCOL.md §7 (stream recycling after maxStreamBytes) and example 11.6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { article, SessionClient, assertContiguous, range, seqsOf, startServer, streamingTransports } from './support.ts';

const maxStreamBytes = 8192;

for (const transport of streamingTransports) {
  void test(`${article(transport)} ${transport} stream is recycled after about maxStreamBytes with close recycle last, and resuming with since loses nothing`, async (t) => {
    const server = await startServer({ maxStreamBytes, heartbeatMs: 60_000 });
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    await client.subscribe('room/42');
    const total = 120;
    const payload = 'z'.repeat(200);
    let stream = await client.open(transport, { since: 0 });
    await stream.frame((frame) => frame.type === 'open', 'the open frame');
    const received: number[] = [];
    let since = 0;
    let recycles = 0;
    let published = 0;
    while (published < total || received.length < total) {
      if (published < total) {
        server.comet.publish('room/42', `${published + 1}:${payload}`);
        published++;
      }
      // Wait for this message on the current stream, or for the stream to end.
      const target = published;
      await stream.until((s) => s.finished || seqsOf(s.frames).includes(target), `message ${target} or the end`);
      if (stream.finished) {
        const frames = stream.frames;
        assert.deepEqual(stream.violations, []);
        assert.deepEqual(stream.lastFrame, { type: 'close', code: 'recycle', reconnect: 'now' });
        assert.equal(frames.filter((frame) => frame.type === 'close').length, 1);
        // "About" maxStreamBytes: the batch in hand is finished, so allow one message and the framing.
        assert.ok(stream.byteLength <= maxStreamBytes + 4096, `${transport} wrote ${stream.byteLength} bytes before recycling`);
        since = assertContiguous(frames, since, `${transport} stream ${recycles}`);
        received.push(...seqsOf(frames));
        recycles++;
        // At once, no backoff, with since (example 11.6).
        stream = await client.open(transport, { since });
        await stream.frame((frame) => frame.type === 'open', 'the open frame of the next stream');
      } else if (published === total) {
        const last = stream;
        await last.until((s) => s.finished || seqsOf(s.frames).includes(total), 'the last message');
        if (!last.isFinished()) {
          since = assertContiguous(stream.frames, since, `${transport} last stream`);
          received.push(...seqsOf(stream.frames));
          stream.abort();
        }
      }
    }
    assert.ok(recycles >= 2, `only ${recycles} recycles for ${total} messages of 200+ bytes`);
    assert.deepEqual(received, range(1, total));
  });
}

void test('a single batch larger than maxStreamBytes is finished before the recycle close', async (t) => {
  const server = await startServer({ maxStreamBytes: 4096, heartbeatMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  const stream = await client.open('xhr', { since: 0 });
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  for (let index = 1; index <= 40; index++) server.comet.publish('room/42', `${index}:${'q'.repeat(200)}`);
  await stream.end();
  const since = assertContiguous(stream.frames, 0);
  assert.deepEqual(stream.lastFrame, { type: 'close', code: 'recycle', reconnect: 'now' });
  const next = await client.open('poll', { since });
  if (since < 40) {
    await next.end();
    assert.equal(assertContiguous(next.frames, since), 40);
    assert.ok(!next.frames.some((frame) => frame.type === 'gap'));
  } else next.abort();
});

void test('a stream that only receives heartbeats is recycled too, so it never grows without bound', async (t) => {
  const server = await startServer({ maxStreamBytes: 2600, heartbeatMs: 20 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const stream = await client.open('sse', { since: 0 });
  await stream.end(30_000);
  assert.deepEqual(stream.lastFrame, { type: 'close', code: 'recycle', reconnect: 'now' });
  assert.ok(stream.byteLength <= 2600 + 1024, `${stream.byteLength} bytes`);
});
