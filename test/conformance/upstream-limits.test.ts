// PROTOCOL.md §6.4: body, batch, message and rate limits of upstream sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import {
  SessionClient,
  dataOf,
  endpointPath,
  errorBody,
  query,
  sendBatch,
  startServer,
  withTimeout,
  type TestServer,
  type UpstreamMessage,
} from './support.ts';

const publish = (id: number, data: unknown, channel = 'room/42'): UpstreamMessage => ({ id, type: 'publish', channel, data });

void test('a batch of more than maxBatchMessages messages is refused with 413 batch-too-large', async (t) => {
  const server = await startServer({ maxBatchMessages: 5 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const six = Array.from({ length: 6 }, (_, index) => publish(index + 1, index));
  const response = await sendBatch(server, client.session, six);
  assert.equal(response.status, 413);
  assert.equal(errorBody(response).code, 'batch-too-large');
  assert.deepEqual(await client.sendNumbered(six.slice(0, 5)), { type: 'ack', ack: 5, errors: [] }, 'nothing of the refused batch applied');
});

void test('a message whose serialised data exceeds maxMessageBytes is refused with 413 message-too-large', async (t) => {
  const server = await startServer({ maxMessageBytes: 1000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const response = await sendBatch(server, client.session, [publish(1, 'ok'), publish(2, 'x'.repeat(1200))]);
  assert.equal(response.status, 413);
  assert.equal(errorBody(response).code, 'message-too-large');
  // 998 characters serialise to exactly 1000 bytes with their quotes.
  assert.deepEqual(await client.sendNumbered([publish(1, 'x'.repeat(998))]), { type: 'ack', ack: 1, errors: [] });
});

void test('a body over maxBodyBytes is refused with 413 body-too-large', async (t) => {
  const server = await startServer({ maxBodyBytes: 2000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const response = await sendBatch(server, client.session, [publish(1, 'x'.repeat(2100))]);
  assert.equal(response.status, 413);
  assert.equal(errorBody(response).code, 'body-too-large');
  assert.equal(response.headers['cache-control'], 'no-cache, no-store, no-transform');
  assert.deepEqual(await client.sendNumbered([publish(1, 'small')]), { type: 'ack', ack: 1, errors: [] });
});

/** Starts a POST declaring `declaredBytes` (or chunked), writes `writeBytes`, and waits for an answer without writing more. */
async function answerToUnfinishedUpload(server: TestServer, session: string, writeBytes: number, declaredBytes: number | 'chunked'): Promise<{ status: number; body: string }> {
  const headers: Record<string, string | number> = { 'content-type': 'text/plain;charset=UTF-8' };
  if (declaredBytes !== 'chunked') headers['content-length'] = declaredBytes;
  const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: `${endpointPath}/send${query({ session })}`, headers, agent: false });
  req.on('error', () => undefined);
  const prefix = '{"messages":[{"id":1,"type":"publish","channel":"a","data":"';
  req.write(prefix + 'x'.repeat(Math.max(0, writeBytes - prefix.length)));
  try {
    const [res] = (await withTimeout(once(req, 'response'), 15_000, 'an answer before the body was complete')) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    await withTimeout(once(res, 'end'), 15_000, 'the end of the 413 body');
    return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() };
  } finally {
    req.destroy();
  }
}

void test('an upload declaring a Content-Length over maxBodyBytes is refused before its body is read', async (t) => {
  const server = await startServer({ maxBodyBytes: 4096 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  // Declares 1 GiB and sends 1 KiB: a server that reads the whole body first never answers.
  const answer = await answerToUnfinishedUpload(server, client.session, 1024, 1024 ** 3);
  assert.equal(answer.status, 413);
  assert.equal((JSON.parse(answer.body) as { code: string }).code, 'body-too-large');
});

void test('a chunked upload growing past maxBodyBytes is refused as soon as it crosses the limit', async (t) => {
  const server = await startServer({ maxBodyBytes: 4096 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  // Twice the limit is written and the body is never finished: only an early refusal answers.
  const answer = await answerToUnfinishedUpload(server, client.session, 8192, 'chunked');
  assert.equal(answer.status, 413);
  assert.equal((JSON.parse(answer.body) as { code: string }).code, 'body-too-large');
  assert.deepEqual(await client.sendNumbered([publish(1, 'after')]), { type: 'ack', ack: 1, errors: [] });
});

void test('a send over the rate limit is refused with 429 rate-limited and retryMs, and nothing of it applies', async (t) => {
  const server = await startServer({ sendRatePerSecond: 2, sendBurst: 5, maxBatchMessages: 5, retryMs: 50 });
  t.after(() => server.stop());
  const watcherClient = await SessionClient.create(server);
  await watcherClient.subscribe('room/42');
  const watcher = await watcherClient.open('xhr');
  const client = await SessionClient.create(server);
  assert.deepEqual(await client.sendNumbered([1, 2, 3, 4, 5].map((id) => publish(id, id))), { type: 'ack', ack: 5, errors: [] });
  const refused = await sendBatch(server, client.session, [6, 7, 8].map((id) => publish(id, id)));
  assert.equal(refused.status, 429);
  assert.equal(errorBody(refused).code, 'rate-limited');
  assert.equal(errorBody(refused).type, 'error');
  const retryMs = errorBody(refused).retryMs;
  assert.ok(typeof retryMs === 'number' && retryMs >= 50, `retryMs ${String(retryMs)}`);
  // A different message 6, once allowed, is applied: the refused batch left no trace.
  let answer = await sendBatch(server, client.session, [publish(6, 'six')]);
  for (let attempt = 0; answer.status === 429 && attempt < 100; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(Number(errorBody(answer).retryMs ?? 50), 50)));
    answer = await sendBatch(server, client.session, [publish(6, 'six')]);
  }
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { type: 'ack', ack: 6, errors: [] });
  await watcher.frame((frame) => frame.data === 'six', 'message six');
  assert.deepEqual(dataOf(watcher.frames), [1, 2, 3, 4, 5, 'six']);
  watcher.abort();
});

void test('rate limits are per session: one noisy session does not limit another', async (t) => {
  const server = await startServer({ sendRatePerSecond: 1, sendBurst: 3, maxBatchMessages: 3 });
  t.after(() => server.stop());
  const noisy = await SessionClient.create(server);
  const quiet = await SessionClient.create(server);
  await noisy.sendNumbered([1, 2, 3].map((id) => publish(id, id)));
  assert.equal((await sendBatch(server, noisy.session, [publish(4, 4)])).status, 429);
  assert.deepEqual(await quiet.sendNumbered([publish(1, 1), publish(2, 2)]), { type: 'ack', ack: 2, errors: [] });
});

void test('a POST body that is neither text/plain nor application/json is refused with 415', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  for (const type of ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/html', 'application/jsonp']) {
    const response = await sendBatch(server, client.session, [publish(1, 1)], { 'content-type': type });
    assert.equal(response.status, 415, type);
    assert.equal(errorBody(response).code, 'unsupported-media-type', type);
  }
  assert.deepEqual(await client.sendNumbered([publish(1, 'ok')]), { type: 'ack', ack: 1, errors: [] });
});
