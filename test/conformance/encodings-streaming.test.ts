// PROTOCOL.md §3.2 and §5.3 for the four streaming encodings, byte by byte: sse, xhr, multipart, iframe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  article,
  IframeParser,
  MultipartParser,
  SessionClient,
  SseParser,
  errorBody,
  ndjsonPrelude,
  startServer,
  streamingTransports,
  type Downstream,
  type SseItem,
  type TestServer,
} from './support.ts';

const contentTypes = {
  sse: 'text/event-stream; charset=utf-8',
  xhr: 'application/x-ndjson; charset=utf-8',
  iframe: 'text/html; charset=utf-8',
} as const;

function assertPushHeaders(stream: Downstream): void {
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['cache-control'], 'no-cache, no-store, no-transform');
  assert.equal(stream.headers['x-content-type-options'], 'nosniff');
  assert.equal(stream.headers['x-accel-buffering'], 'no');
  assert.equal(stream.headers['content-encoding'], undefined);
}

async function subscribed(server: TestServer, channel = 'room/42'): Promise<SessionClient> {
  const client = await SessionClient.create(server);
  assert.deepEqual(await client.subscribe(channel), { type: 'ack', ack: 1, errors: [] });
  return client;
}

for (const transport of streamingTransports) {
  void test(`${article(transport)} ${transport} stream carries the push headers, an open frame first, then published messages`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const client = await subscribed(server);
    const stream = await client.open(transport, { since: 0, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assertPushHeaders(stream);
    if (transport === 'multipart') assert.match(stream.headers['content-type'] ?? '', /^multipart\/x-mixed-replace; boundary="cometkit-[0-9a-f]{16}"$/);
    else assert.equal(stream.headers['content-type'], contentTypes[transport]);
    await stream.frame((frame) => frame.type === 'open', 'the open frame');
    assert.deepEqual(stream.frames[0], { type: 'open', seq: 0, heartbeatMs: 150 });
    server.comet.publish('room/42', { text: 'hi' });
    server.comet.publish('room/42', 'second');
    await stream.messageCount(2);
    assert.deepEqual(stream.messages, [
      { type: 'msg', seq: 1, channel: 'room/42', data: { text: 'hi' } },
      { type: 'msg', seq: 2, channel: 'room/42', data: 'second' },
    ]);
    assert.deepEqual(stream.violations, []);
    stream.abort();
  });

  void test(`an idle ${transport} stream receives hb frames at least every heartbeatMs`, async (t) => {
    const server = await startServer({ heartbeatMs: 100 });
    t.after(() => server.stop());
    const client = await subscribed(server);
    const stream = await client.open(transport);
    await stream.until((s) => s.frames.filter((frame) => frame.type === 'hb').length >= 3, 'three hb frames');
    assert.deepEqual(stream.frames.filter((frame) => frame.type !== 'hb'), [{ type: 'open', seq: 0, heartbeatMs: 100 }]);
    assert.deepEqual(stream.violations, []);
    stream.abort();
  });
}

void test('an iframe stream keeps the shorter frameHeartbeatMs, says so in its open frame, and other streams keep heartbeatMs', async (t) => {
  const server = await startServer({ heartbeatMs: 60_000, frameHeartbeatMs: 100 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  const frame = await client.open('iframe');
  await frame.until((s) => s.frames.filter((each) => each.type === 'hb').length >= 3, 'three hb frames on the iframe stream');
  assert.deepEqual(frame.frames.filter((each) => each.type !== 'hb'), [{ type: 'open', seq: 0, heartbeatMs: 100 }]);
  assert.deepEqual(frame.violations, []);
  frame.abort();
  const xhr = await client.open('xhr');
  await xhr.frame((each) => each.type === 'open', 'the open frame');
  assert.deepEqual(xhr.frames, [{ type: 'open', seq: 0, heartbeatMs: 60_000 }]);
  xhr.abort();
});

void test('an sse stream starts with retry: retryMs and a blank line, then one data event per frame', async (t) => {
  const server = await startServer({ retryMs: 1234 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('sse');
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  assert.ok(stream.text.startsWith('retry: 1234\n\ndata: {"type":"open","seq":0,"heartbeatMs":150}\n\n'), JSON.stringify(stream.text.slice(0, 120)));
  server.comet.publish('room/42', 'hi');
  await stream.messageCount(1);
  assert.ok(stream.text.includes('id: 1\ndata: {"type":"msg","seq":1,"channel":"room/42","data":"hi"}\n\n'), JSON.stringify(stream.text));
  const parser = stream.parser as SseParser;
  const events = parser.items.filter((item): item is Extract<SseItem, { kind: 'event' }> => item.kind === 'event');
  for (const event of events) assert.equal(event.event, undefined, 'frames use the default event type');
  assert.equal(events.find((event) => event.data.includes('"msg"'))?.id, '1');
  stream.abort();
});

void test('an sse heartbeat is a comment line followed by an hb frame the page can see', async (t) => {
  const server = await startServer({ heartbeatMs: 100 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('sse');
  await stream.until((s) => s.frames.some((frame) => frame.type === 'hb'), 'an hb frame');
  const items = (stream.parser as SseParser).items;
  const hbIndex = items.findIndex((item) => item.kind === 'event' && item.data === '{"type":"hb"}');
  assert.ok(hbIndex > 0);
  assert.deepEqual(items[hbIndex - 1], { kind: 'comment', text: 'hb' });
  stream.abort();
});

void test('every msg event of an sse stream carries id: seq so lastEventId tracks the resume point', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('sse');
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  for (let index = 0; index < 5; index++) server.comet.publish('room/42', index);
  await stream.messageCount(5);
  const events = (stream.parser as SseParser).items.filter((item) => item.kind === 'event' && item.data.includes('"type":"msg"'));
  assert.deepEqual(events.map((event) => (event.kind === 'event' ? event.id : undefined)), ['1', '2', '3', '4', '5']);
  stream.abort();
});

void test('an xhr stream starts with a prelude of exactly 2047 spaces and a LF, then one frame per LF-ended line', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('xhr');
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  server.comet.publish('room/42', 'line\nbreak\r\n');
  await stream.messageCount(1);
  const text = stream.text;
  assert.equal(text.slice(0, 2048), ndjsonPrelude);
  const lines = text.slice(2048).split('\n');
  assert.equal(lines.pop(), '', 'the last line is ended by LF');
  const meaningful = lines.filter((line) => line.trim() !== '');
  assert.deepEqual(meaningful.slice(0, 2).map((line) => JSON.parse(line) as unknown), [
    { type: 'open', seq: 0, heartbeatMs: 150 },
    { type: 'msg', seq: 1, channel: 'room/42', data: 'line\nbreak\r\n' },
  ]);
  assert.ok(!text.slice(2048).includes('\r'), 'no raw CR inside a serialised frame (§3.3)');
  stream.abort();
});

void test('a multipart stream frames each batch as one application/json part of a JSON array', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('multipart');
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  const boundary = /boundary="([^"]+)"/.exec(stream.headers['content-type'] ?? '')?.[1] ?? '';
  assert.ok(stream.text.startsWith(`--${boundary}\r\nContent-Type: application/json\r\n\r\n[{"type":"open","seq":0,"heartbeatMs":150}]\r\n`), JSON.stringify(stream.text.slice(0, 200)));
  // Data that looks like a delimiter can never end a part: it holds no raw CRLF (§3.3).
  server.comet.publish('room/42', `\r\n--${boundary}--\r\n`);
  await stream.messageCount(1);
  assert.deepEqual(stream.messages[0]?.data, `\r\n--${boundary}--\r\n`);
  assert.deepEqual((stream.parser as MultipartParser).violations, []);
  stream.abort();
});

void test('a multipart stream ends with the closing boundary, and each response has a fresh boundary', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const boundaries = new Set<string>();
  let previous: Downstream | undefined;
  for (let index = 0; index < 5; index++) {
    const stream = await client.open('multipart');
    boundaries.add(stream.headers['content-type'] ?? '');
    // The newer request replaces the previous one, which must end cleanly.
    if (previous !== undefined) {
      await previous.end();
      assert.equal((previous.parser as MultipartParser).closed, true, 'the replaced response ends with --boundary--');
      assert.deepEqual(previous.lastFrame, { type: 'close', code: 'replaced', reconnect: 'none' });
      assert.deepEqual(previous.violations, []);
      const boundary = /boundary="([^"]+)"/.exec(previous.headers['content-type'] ?? '')?.[1] ?? '';
      assert.ok(previous.text.endsWith(`\r\n--${boundary}--\r\n`), JSON.stringify(previous.text.slice(-80)));
    }
    previous = stream;
  }
  previous?.abort();
  assert.equal(boundaries.size, 5);
});

void test('an iframe document defines the delivery in a head script, then at least 1 KiB of prelude, then one script per batch', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('iframe', { callback: 'onFrames' });
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  server.comet.publish('room/42', { text: 'hi' });
  await stream.messageCount(1);
  const parser = stream.parser as IframeParser;
  assert.match(stream.text, /^<!DOCTYPE html>/i);
  assert.match(stream.text.slice(0, 400), /<meta charset="?utf-8"?>/i);
  assert.ok(parser.headScript?.includes('parent.onFrames('), `head script: ${parser.headScript ?? ''}`);
  assert.ok((parser.preludeBytes ?? 0) >= 1024, `prelude of ${parser.preludeBytes ?? 0} bytes`);
  assert.ok(parser.batchScripts.length >= 2);
  // Same origin (no origin parameter): the document calls parent.NAME(frames) directly.
  assert.ok(parser.sandbox.deliveries.every((delivery) => delivery.kind === 'call' && delivery.name === 'onFrames'));
  assert.ok(!stream.text.includes('postMessage'), 'no postMessage without an origin parameter');
  assert.deepEqual(parser.violations, []);
  stream.abort();
});

void test('an iframe with an allowed origin posts {cometkit, frames} to that exact origin, never to *', async (t) => {
  const server = await startServer({ allowedOrigins: ['http://localhost:5173'] });
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('iframe', { callback: 'onFrames', origin: 'http://localhost:5173' });
  assert.equal(stream.status, 200);
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  server.comet.publish('room/42', 'cross');
  await stream.messageCount(1);
  const parser = stream.parser as IframeParser;
  assert.ok(parser.sandbox.deliveries.length >= 2);
  for (const delivery of parser.sandbox.deliveries) {
    assert.equal(delivery.kind, 'postMessage');
    assert.equal(delivery.targetOrigin, 'http://localhost:5173');
    assert.equal((delivery.value as { cometkit?: unknown }).cometkit, 'onFrames');
  }
  assert.ok(!/['"]\*['"]/.test(stream.text), 'the document never names the target origin *');
  assert.deepEqual(parser.violations, []);
  stream.abort();
});

void test('an iframe with allowedOrigins * still posts to the explicit origin parameter', async (t) => {
  const server = await startServer({ allowedOrigins: '*' });
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('iframe', { callback: 'cb', origin: 'https://app.example.com' });
  assert.equal(stream.status, 200);
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  const delivery = (stream.parser as IframeParser).sandbox.deliveries[0];
  assert.equal(delivery?.kind, 'postMessage');
  assert.equal(delivery.targetOrigin, 'https://app.example.com');
  assert.ok(!/['"]\*['"]/.test(stream.text));
  stream.abort();
});

void test('an iframe whose origin is not allowed, or not of the origin form, is refused with 403 forbidden-origin', async (t) => {
  const server = await startServer({ allowedOrigins: ['http://localhost:5173'] });
  t.after(() => server.stop());
  const client = await subscribed(server);
  for (const origin of ['http://evil.example', 'http://localhost:5174', '*', 'null', 'javascript:alert(1)', 'http://localhost:5173/', 'http://localhost:5173/path', 'ftp://localhost:5173', 'http://local host']) {
    const stream = await client.open('iframe', { callback: 'cb', origin });
    await stream.end();
    assert.equal(stream.status, 403, `origin ${origin}`);
    assert.equal((JSON.parse(stream.text) as { code?: unknown }).code, 'forbidden-origin', `origin ${origin}`);
    assert.ok(!stream.text.includes(origin) || origin === 'null' || origin === '*', 'the error does not repeat the origin');
  }
  // The refused requests did not replace anything: the session still has no open stream.
  assert.equal(server.comet.inspect().openDownstream, 0);
});

void test('an iframe or multipart stream written by the server passes the strict framing parsers from byte one', async (t) => {
  // Re-parse whole bodies in one-byte chunks: framing must not depend on how TCP split the bytes.
  const server = await startServer({ heartbeatMs: 100 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  for (const transport of ['iframe', 'multipart', 'sse'] as const) {
    const stream = await client.open(transport, { callback: 'cb' });
    await stream.frame((frame) => frame.type === 'open', 'the open frame');
    server.comet.publish('room/42', { n: 'é€😀' });
    await stream.until((s) => s.frames.some((frame) => frame.type === 'hb') && s.messages.length > 0, 'a message and a heartbeat');
    stream.abort();
    const frames: unknown[] = [];
    const sink = (batch: unknown[]): void => {
      frames.push(...batch);
    };
    const boundary = /boundary="([^"]+)"/.exec(stream.headers['content-type'] ?? '')?.[1] ?? '';
    const parser = transport === 'iframe' ? new IframeParser({ callback: 'cb' }, sink) : transport === 'multipart' ? new MultipartParser(boundary, sink) : new SseParser(sink);
    const text = stream.text;
    for (let index = 0; index < text.length; index++) parser.push(text[index]!, index);
    assert.deepEqual(frames, stream.frames, transport);
    assert.deepEqual(parser.violations, [], transport);
  }
});

void test('a refused downstream request is answered with a JSON error, not in the transport encoding', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('sse', { since: 99 });
  await stream.end();
  assert.equal(stream.status, 400);
  assert.equal(stream.headers['cache-control'], 'no-cache, no-store, no-transform');
  assert.equal(stream.headers['x-content-type-options'], 'nosniff');
  assert.equal(errorBody({ status: 400, headers: stream.headers, body: Buffer.from(stream.text), text: stream.text, json: JSON.parse(stream.text) as unknown }).code, 'bad-since');
});
