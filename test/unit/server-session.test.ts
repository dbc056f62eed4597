// Unit tests of server/session.ts: resume buffer and gap math (PROTOCOL.md 5.2, 8.4), the token
// bucket (6.4), refusal memory and serialised sends (6.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFUSAL_MEMORY, ResumeBuffer, Session, TokenBucket } from '../../server/session.ts';
import type { Pending } from '../../server/session.ts';

const tail = (data: string) => `"channel":"c","data":${JSON.stringify(data)}}`;

function fill(buffer: ResumeBuffer, count: number): void {
  for (let index = 1; index <= count; index++) {
    const text = tail(String(buffer.seq + 1));
    buffer.append(text, Buffer.byteLength(text));
  }
}

function describe(pending: Pending): string[] {
  return pending.frames.map((frame) => {
    const parsed = JSON.parse(frame.json) as { type: string; seq?: number; from?: number; to?: number };
    return parsed.type === 'gap' ? `gap ${parsed.from}-${parsed.to}` : `msg ${parsed.seq}`;
  });
}

test('appended messages get consecutive seqs and the frame is built around the shared tail', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 10, bufferMaxBytes: 1 << 20 });
  fill(buffer, 3);
  const pending = buffer.pendingAfter(0);
  assert.deepEqual(pending.frames.map((frame) => frame.json), [1, 2, 3].map((seq) => `{"type":"msg","seq":${seq},"channel":"c","data":"${seq}"}`));
  assert.deepEqual(pending.frames.map((frame) => frame.eventId), [1, 2, 3]);
  assert.equal(pending.throughSeq, 3);
  assert.equal(buffer.bytes, pending.frames.reduce((sum, frame) => sum + Buffer.byteLength(frame.json), 0));
});

test('since trims confirmed messages and owes exactly the ones after it, without a gap', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 10, bufferMaxBytes: 1 << 20 });
  fill(buffer, 6);
  buffer.confirm(3);
  assert.equal(buffer.size, 3);
  assert.deepEqual(describe(buffer.pendingAfter(3)), ['msg 4', 'msg 5', 'msg 6']);
  assert.deepEqual(describe(buffer.pendingAfter(6)), []);
});

test('messages evicted by the count bound become a gap for a reader behind them (example 11.4)', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 1000, bufferMaxBytes: 1 << 30 });
  fill(buffer, 2500);
  assert.equal(buffer.size, 1000);
  const pending = buffer.pendingAfter(1200);
  assert.equal(describe(pending)[0], 'gap 1201-1500');
  assert.equal(describe(pending)[1], 'msg 1501');
  assert.equal(pending.frames.length, 1001);
  assert.equal(pending.throughSeq, 2500);
  assert.deepEqual(describe(buffer.pendingAfter(1500)).slice(0, 1), ['msg 1501'], 'a reader at the eviction edge lost nothing');
});

test('the byte bound evicts the oldest, but the newest message always stays', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 1000, bufferMaxBytes: 100 });
  const big = tail('x'.repeat(500));
  buffer.append(big, Buffer.byteLength(big));
  assert.equal(buffer.size, 1, 'a message larger than the bound is still buffered');
  fill(buffer, 1);
  assert.equal(buffer.size, 1);
  assert.deepEqual(describe(buffer.pendingAfter(0)), ['gap 1-1', 'msg 2']);
  assert.ok(buffer.bytes <= 100);
});

test('a stale reader behind messages another since already confirmed gets a gap for them', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 10, bufferMaxBytes: 1 << 20 });
  fill(buffer, 12);
  buffer.confirm(10);
  assert.deepEqual(describe(buffer.pendingAfter(5)), ['gap 6-10', 'msg 11', 'msg 12']);
});

test('the buffer stays correct across its internal compaction', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 50, bufferMaxBytes: 1 << 20 });
  for (let round = 0; round < 100; round++) {
    fill(buffer, 37);
    buffer.confirm(buffer.seq - 5);
  }
  assert.deepEqual(describe(buffer.pendingAfter(buffer.seq - 2)), [`msg ${buffer.seq - 1}`, `msg ${buffer.seq}`]);
  assert.equal(buffer.size, 5);
});

test('the token bucket allows a burst, then the sustained rate, and says how long to wait', () => {
  const bucket = new TokenBucket(200, 400, 0);
  assert.equal(bucket.take(400, 0), 0);
  assert.equal(bucket.take(1, 0), 5, '1 token at 200/s is 5 ms away');
  assert.equal(bucket.take(100, 500), 0, '500 ms refill 100 tokens');
  assert.equal(bucket.take(1, 500), 5);
});

test('a request larger than the burst is refused whatever the bucket holds', () => {
  const bucket = new TokenBucket(1, 3, 0);
  assert.ok(bucket.take(4, 0) > 0);
  assert.equal(bucket.take(3, 0), 0, 'the refused request took nothing');
});

function newSession(): Session {
  return new Session('s'.repeat(22), undefined, { bufferMaxMessages: 10, bufferMaxBytes: 1000, sendRatePerSecond: 10, sendBurst: 10 }, 0);
}

test('applied ids advance one by one, and only the last 64 refusals are remembered', () => {
  const session = newSession();
  assert.throws(() => session.applied(2, undefined), /in order/);
  for (let id = 1; id <= 100; id++) session.applied(id, id % 2 === 0 ? 'forbidden' : undefined);
  assert.equal(session.acked, 100);
  const remembered = Array.from({ length: 100 }, (_, index) => index + 1).filter((id) => session.refusalOf(id) !== undefined);
  assert.equal(remembered.length, 50, 'the 50 refusals fit in the memory');
  for (let id = 101; id <= 300; id++) session.applied(id, 'bad-channel');
  assert.equal(session.refusalOf(300 - REFUSAL_MEMORY), undefined);
  assert.equal(session.refusalOf(300 - REFUSAL_MEMORY + 1), 'bad-channel');
  assert.equal(session.refusalOf(100), undefined);
});

test('sends of one session run one at a time, in arrival order, even when one fails', async () => {
  const session = newSession();
  const order: string[] = [];
  const slow = session.serialise(async () => {
    order.push('a start');
    await new Promise((resolve) => setTimeout(resolve, 20));
    order.push('a end');
    throw new Error('a failed');
  });
  const fast = session.serialise(() => {
    order.push('b');
    return Promise.resolve('b done');
  });
  await assert.rejects(slow, /a failed/);
  assert.equal(await fast, 'b done');
  assert.deepEqual(order, ['a start', 'a end', 'b']);
});

test('maxInFlight keeps the highest number of requests ever open at once', () => {
  const session = newSession();
  session.requestStarted();
  session.requestStarted();
  session.requestEnded();
  session.requestStarted();
  session.requestEnded();
  session.requestEnded();
  assert.equal(session.inFlight, 0);
  assert.equal(session.maxInFlight, 2);
});

test('a capped batch stops before the message that would pass the cap, but takes at least one', () => {
  const buffer = new ResumeBuffer({ bufferMaxMessages: 100, bufferMaxBytes: 1 << 20 });
  fill(buffer, 10);
  const entryBytes = Buffer.byteLength(buffer.pendingAfter(0).frames[0]!.json);
  const first = buffer.pendingAfter(0, entryBytes * 3);
  assert.deepEqual(first.frames.map((frame) => frame.eventId), [1, 2, 3]);
  assert.equal(first.throughSeq, 3);
  const tiny = buffer.pendingAfter(3, 1);
  assert.deepEqual(tiny.frames.map((frame) => frame.eventId), [4], 'one message even over the cap');
  assert.equal(tiny.throughSeq, 4);
  const rest = buffer.pendingAfter(4, Infinity);
  assert.equal(rest.throughSeq, 10);
  assert.equal(rest.frames.length, 6);
});
