// Fan-out, batching into one write (§1 "Batch"), and many concurrent long polls on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  SessionClient,
  dataOf,
  endpointPath,
  eventually,
  request,
  sendBatch,
  startServer,
  streamingTransports,
  withTimeout,
  type Handshake,
  type TestServer,
} from './support.ts';

void test('a publish to a channel with many subscribers reaches each exactly once', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const subscribers = await Promise.all(Array.from({ length: 60 }, () => SessionClient.create(server)));
  const streams = await Promise.all(
    subscribers.map(async (client, index) => {
      await client.subscribe('crowd', `own/${index}`);
      const stream = await client.open(streamingTransports[index % streamingTransports.length]!);
      await stream.frame((frame) => frame.type === 'open', 'the open frame');
      return stream;
    }),
  );
  const publisher = await SessionClient.create(server);
  assert.deepEqual(await publisher.publish('crowd', 'hello all'), { type: 'ack', ack: 1, errors: [] });
  server.comet.publish('crowd', 'and again');
  // A per-subscriber marker, published after both, proves nothing more is on its way.
  subscribers.forEach((_, index) => server.comet.publish(`own/${index}`, 'marker'));
  await Promise.all(streams.map((stream) => stream.frame((frame) => frame.data === 'marker', 'the marker')));
  for (const stream of streams) {
    assert.deepEqual(dataOf(stream.frames), ['hello all', 'and again', 'marker']);
    assert.deepEqual(stream.violations, []);
    stream.abort();
  }
});

for (const transport of streamingTransports) {
  void test(`messages published in the same tick reach a ${transport} stream as one batch in one write`, async (t) => {
    const server = await startServer({ heartbeatMs: 60_000 });
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    await client.subscribe('room/42');
    const stream = await client.open(transport);
    await stream.frame((frame) => frame.type === 'open', 'the open frame');
    for (let index = 1; index <= 5; index++) server.comet.publish('room/42', index);
    await stream.messageCount(5);
    const batches = stream.batches.filter((batch) => batch.frames.some((frame) => frame.type === 'msg'));
    // sse and xhr show batches only as writes (one HTTP chunk, one data event); multipart and
    // iframe also delimit them as one part or one script.
    const chunks = new Set(batches.map((batch) => batch.chunkIndex));
    assert.equal(chunks.size, 1, `the five messages arrived in ${chunks.size} writes`);
    if (transport === 'multipart' || transport === 'iframe') assert.equal(batches.length, 1, `the five messages arrived in ${batches.length} ${transport === 'iframe' ? 'scripts' : 'parts'}`);
    stream.abort();
  });
}

void test('1,000 concurrent long-polling sessions on loopback are all answered', async (t) => {
  const server: TestServer = await startServer({ holdMs: 120_000, maxSessions: 5000, sessionTimeoutMs: 120_000 });
  t.after(() => server.stop());
  const count = 1000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: count + 50 });
  t.after(() => agent.destroy());
  const hellos: Handshake[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, count - start) }, () => request(server, `${endpointPath}/handshake?v=1`)));
    hellos.push(...batch.map((response) => response.json as Handshake));
  }
  for (let start = 0; start < count; start += 100) {
    const answers = await Promise.all(hellos.slice(start, start + 100).map((hello) => sendBatch(server, hello.session, [{ id: 1, type: 'subscribe', channel: 'everyone' }])));
    assert.ok(answers.every((answer) => answer.status === 200));
  }
  const polls = hellos.map(
    (hello) =>
      new Promise<unknown>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: server.port, path: `${endpointPath}/poll?session=${hello.session}&since=0`, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString()));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        });
        req.on('error', reject);
      }),
  );
  await eventually(() => server.comet.inspect().openDownstream === count, `${count} polls to be held`, 60_000);
  server.comet.publish('everyone', 'hello');
  const answers = await withTimeout(Promise.all(polls), 60_000, `${count} poll answers`);
  for (const answer of answers) assert.deepEqual(answer, [{ type: 'msg', seq: 1, channel: 'everyone', data: 'hello' }]);
  assert.deepEqual(server.serverErrors, []);
});
