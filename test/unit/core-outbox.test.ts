import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CometError } from '../../src/errors.ts';
import { batchMessages } from '../../src/batching.ts';
import { createOutbox, oneByOne, type Batching, type OutboxItem, type OutboxLimits } from '../../src/outbox.ts';
import type { UpstreamMessage } from '../../src/protocol.ts';
import { fakePlatform, type OneShotResult } from '../support/fake-platform.ts';

interface Sent {
  messages: { id: number; type: string; channel: string; data?: unknown }[];
  length: number;
  answer(result: OneShotResult): void;
  aborted: boolean;
}

function world(limits: Partial<OutboxLimits> = {}, batching: Batching = batchMessages) {
  const platform = fakePlatform();
  const sent: Sent[] = [];
  const reports: CometError[] = [];
  let expirations = 0;
  let ready = true;
  const outbox = createOutbox(platform, {
    send: (messages, done) => {
      // The test's result as the one-shot gives it: a refusal's retryMs read from its body.
      const answer = (result: OneShotResult) => {
        if (result.ok) done(undefined, result.value);
        else done({ ...result.failure, retryMs: (result.value as { retryMs?: number } | undefined)?.retryMs });
      };
      const request: Sent = { messages: JSON.parse(messages) as Sent['messages'], length: messages.length, answer, aborted: false };
      sent.push(request);
      return () => { request.aborted = true; };
    },
    limits: () => (ready ? Object.assign({ maxBatchMessages: 100, maxBodyBytes: 65536 }, limits) : undefined),
    retryDelayMs: (attempt, floorMs = 0) => floorMs + 1000 * 2 ** attempt,
    expired: () => { expirations++; },
    report: (error) => reports.push(error),
    batching,
  });
  const outcomes: string[] = [];
  const item = (type: UpstreamMessage['type'], channel: string, data?: unknown): OutboxItem => ({
    type,
    body: batching.body(type, channel, data),
    settle: (error) => outcomes.push(`${type} ${channel} ${data === undefined ? '' : JSON.stringify(data)}: ${error ? `${error.type} ${error.code ?? ''}` : 'ok'}`.trim()),
  });
  const publish = (data: unknown) => outbox.push(item('publish', 'room/42', data));
  return {
    platform, outbox, sent, reports, outcomes, item, publish,
    ids: (index: number) => sent[index]?.messages.map((message) => message.id),
    ack: (index: number, ack: number, errors: { id: number; code: string }[] = []) => sent[index]?.answer({ ok: true, value: { type: 'ack', ack, errors } }),
    expirations: () => expirations,
    setReady: (value: boolean) => { ready = value; },
  };
}

describe('outbox (batchMessages, as CometClient sends)', () => {
  it('sends the publishes of one task in one batch, numbered from 1', () => {
    const box = world();
    box.publish('a');
    box.publish('b');
    box.publish('c');
    assert.equal(box.sent.length, 0, 'nothing leaves before the task ends');
    box.platform.flush();
    assert.deepEqual(box.sent.map((request) => request.messages), [[
      { id: 1, type: 'publish', channel: 'room/42', data: 'a' },
      { id: 2, type: 'publish', channel: 'room/42', data: 'b' },
      { id: 3, type: 'publish', channel: 'room/42', data: 'c' },
    ]]);
  });

  it('keeps exactly one request in flight; what comes meanwhile goes in the next batch', () => {
    const box = world();
    box.publish('a');
    box.platform.flush();
    box.publish('b');
    box.publish('c');
    box.platform.advance(10000);
    assert.equal(box.sent.length, 1);
    box.ack(0, 1);
    assert.deepEqual(box.ids(1), [2, 3]);
  });

  it('resolves on an ack that lists no errors at all', () => {
    const box = world();
    box.publish('a');
    box.platform.flush();
    box.sent[0]?.answer({ ok: true, value: { type: 'ack', ack: 1 } });
    assert.deepEqual(box.outcomes, ['publish room/42 "a": ok']);
  });

  it('takes an answer that is not an ack as a protocol failure and retries', () => {
    const box = world();
    box.publish('a');
    box.platform.flush();
    box.sent[0]?.answer({ ok: true, value: { type: 'ack', ack: 1, errors: [{ code: 'x' }] } });
    box.platform.advance(1000);
    assert.deepEqual(box.reports.map((error) => error.type), ['protocol']);
    assert.deepEqual(box.ids(1), [1]);
  });

  it('resolves each publish on the ack, and rejects the refused ones with publish-refused and their code', () => {
    const box = world();
    box.publish('a');
    box.publish('b');
    box.platform.flush();
    assert.deepEqual(box.outcomes, []);
    box.ack(0, 2, [{ id: 2, code: 'forbidden' }]);
    assert.deepEqual(box.outcomes, ['publish room/42 "a": ok', 'publish room/42 "b": publish-refused forbidden']);
  });

  it('retries the same batch with the same ids until acknowledged, with a growing delay', () => {
    const box = world();
    box.publish('a');
    box.publish('b');
    box.platform.flush();
    box.sent[0]?.answer({ ok: false, failure: { type: 'network', detail: 'cut' } });
    box.platform.advance(999);
    assert.equal(box.sent.length, 1);
    box.platform.advance(1);
    box.sent[1]?.answer({ ok: false, failure: { type: 'http-status', status: 503, detail: 'too-many-sessions' } });
    box.platform.advance(2000);
    assert.deepEqual([box.ids(0), box.ids(1), box.ids(2)], [[1, 2], [1, 2], [1, 2]]);
    assert.deepEqual(box.reports.map((error) => [error.type, error.willRetry]), [['network', true], ['http-status', true]]);
    box.ack(2, 2);
    assert.equal(box.outcomes.length, 2);
  });

  it('after a partial ack (a hole) sends the rest again from ack + 1', () => {
    const box = world();
    box.publish('a');
    box.publish('b');
    box.publish('c');
    box.platform.flush();
    box.ack(0, 1);
    assert.deepEqual(box.outcomes, ['publish room/42 "a": ok']);
    assert.deepEqual(box.ids(1), [2, 3]);
  });

  it('an ack lower than one already received (a server that lost the session) is a lost session: nothing is sent again until a new one', () => {
    const box = world();
    box.publish('a');
    box.publish('b');
    box.platform.flush();
    box.ack(0, 2);
    box.publish('c');
    box.platform.flush();
    assert.deepEqual(box.ids(1), [3]);
    box.ack(1, 0);
    box.platform.advance(60000);
    assert.equal(box.expirations(), 1);
    assert.equal(box.sent.length, 2, 'no request after the backward ack');
    assert.deepEqual(box.outcomes, ['publish room/42 "a": ok', 'publish room/42 "b": ok'], 'the pending publish waits for the new session');
    box.outbox.renew([]);
    assert.deepEqual(box.ids(2), [1], 'renumbered from 1 in the new session');
  });

  it('rejects everything pending with a closed error when closed', () => {
    const box = world();
    box.publish('a');
    box.platform.flush();
    box.publish('b');
    box.outbox.close(new CometError('closed', 'client-close'));
    assert.ok(box.sent[0]?.aborted);
    assert.deepEqual(box.outcomes, ['publish room/42 "a": closed', 'publish room/42 "b": closed']);
    box.platform.advance(60000);
    assert.equal(box.sent.length, 1);
  });

  it('splits batches at maxBatchMessages and maxBodyBytes', () => {
    const box = world({ maxBatchMessages: 2, maxBodyBytes: 150 });
    for (const data of ['a', 'b', 'c']) box.publish(data);
    box.platform.flush();
    assert.deepEqual(box.ids(0), [1, 2]);
    box.ack(0, 2);
    assert.deepEqual(box.ids(1), [3]);
    const big = world({ maxBodyBytes: 200 });
    for (const data of ['x'.repeat(60), 'y'.repeat(60), 'z'.repeat(60)]) big.publish(data);
    big.platform.flush();
    assert.deepEqual(big.ids(0), [1]);
    assert.ok(big.sent.every((request) => request.length + 15 <= 200));
  });

  it('keeps the encoded messages of a GET (script) send within its URL room, splitting the batch', () => {
    const box = world({ urlRoom: 1700 });
    for (let index = 0; index < 20; index++) box.publish({ text: 'é "quoted" '.repeat(8), index });
    box.platform.flush();
    while (box.sent.some((request) => !request.aborted && box.outcomes.length < 20)) {
      const last = box.sent.length - 1;
      const ids = box.ids(last) ?? [];
      box.ack(last, Math.max(...ids));
      if (box.sent.length === last + 1) break;
    }
    assert.equal(box.outcomes.filter((outcome) => outcome.endsWith('ok')).length, 20);
    assert.ok(box.sent.length > 2);
    for (const request of box.sent) {
      assert.ok(encodeURIComponent(JSON.stringify(request.messages)).length <= 1700);
    }
  });

  it('refuses a message too large to fit alone, and sends the others', () => {
    const box = world({ urlRoom: 1700 });
    box.publish('x'.repeat(2000));
    box.publish('small');
    box.platform.flush();
    assert.deepEqual(box.outcomes, [`publish room/42 "${'x'.repeat(2000)}": publish-refused too-large`]);
    assert.deepEqual(box.sent[0]?.messages.map((message) => [message.id, message.data]), [[1, 'small']]);
  });

  it('a batch refused whole (400) is sent again one message per request, so only the culprit is refused', () => {
    const box = world();
    box.publish('good');
    box.publish('bad');
    box.platform.flush();
    box.sent[0]?.answer({ ok: false, failure: { type: 'http-status', status: 400, detail: 'bad-json' } });
    assert.deepEqual(box.ids(1), [1]);
    box.ack(1, 1);
    assert.deepEqual(box.ids(2), [2]);
    box.sent[2]?.answer({ ok: false, failure: { type: 'http-status', status: 400, detail: 'bad-json' } });
    assert.deepEqual(box.outcomes, ['publish room/42 "good": ok', 'publish room/42 "bad": publish-refused bad-json']);
  });

  it('on a new session renumbers from 1 what is not acknowledged, subscriptions first', () => {
    const box = world();
    box.outbox.push(box.item('subscribe', 'old'));
    box.publish('a');
    box.platform.flush();
    box.ack(0, 2);
    box.publish('b');
    box.outbox.push(box.item('unsubscribe', 'gone'));
    box.platform.flush();
    assert.deepEqual(box.ids(1), [3, 4]);
    box.sent[1]?.answer({ ok: true, value: { type: 'close', code: 'unknown-session', reconnect: 'handshake' } });
    assert.equal(box.expirations(), 1);
    box.outbox.pause();
    box.outbox.renew([box.item('subscribe', 'old')]);
    assert.deepEqual(box.sent[2]?.messages.map((message) => [message.id, message.type, message.channel, message.data]), [
      [1, 'subscribe', 'old', undefined], [2, 'publish', 'room/42', 'b'],
    ]);
    assert.deepEqual(box.outcomes.slice(2), ['unsubscribe gone : ok'], 'the dropped unsubscribe is settled');
  });

  it('waits for a session before sending', () => {
    const box = world();
    box.setReady(false);
    box.publish('a');
    box.platform.advance(5000);
    assert.equal(box.sent.length, 0);
    box.setReady(true);
    box.outbox.renew([]);
    assert.deepEqual(box.ids(0), [1]);
  });
});

describe('outbox one message per request (oneByOne, CometClientCore\'s default)', () => {
  it('sends each message in a request of its own, in order, the next once the previous is acknowledged', () => {
    const box = world({}, oneByOne);
    box.outbox.push(box.item('subscribe', 'room/42'));
    box.publish('a');
    box.platform.flush();
    assert.deepEqual(box.sent.map((request) => request.messages), [[{ id: 1, type: 'subscribe', channel: 'room/42' }]]);
    box.ack(0, 1);
    assert.deepEqual(box.sent[1]?.messages, [{ id: 2, type: 'publish', channel: 'room/42', data: 'a' }]);
    box.ack(1, 2);
    assert.deepEqual(box.outcomes, ['subscribe room/42 : ok', 'publish room/42 "a": ok']);
  });

  it('leaves checking the data to the server: a refusal of the request refuses its one message with the code, and the next goes on', () => {
    const box = world({}, oneByOne);
    box.publish({ constructor: 1 });
    box.publish('b');
    box.platform.flush();
    assert.deepEqual(box.sent[0]?.messages, [{ id: 1, type: 'publish', channel: 'room/42', data: { constructor: 1 } }]);
    box.sent[0].answer({ ok: false, failure: { type: 'http-status', status: 400, detail: 'forbidden-key' } });
    assert.deepEqual(box.ids(1), [1], 'the refused message was not applied: its id is free');
    box.ack(1, 1);
    assert.deepEqual(box.outcomes, ['publish room/42 {"constructor":1}: publish-refused forbidden-key', 'publish room/42 "b": ok']);
  });

  it('retries after a failure with the server\'s retryMs as the floor', () => {
    const box = world({}, oneByOne);
    box.publish('a');
    box.platform.flush();
    box.sent[0]?.answer({ ok: false, failure: { type: 'http-status', status: 429, detail: 'rate-limited' }, value: { type: 'error', code: 'rate-limited', retryMs: 5000 } });
    box.platform.advance(5999);
    assert.equal(box.sent.length, 1, 'not before retryMs plus the backoff');
    box.platform.advance(1);
    assert.deepEqual(box.ids(1), [1]);
  });
});
