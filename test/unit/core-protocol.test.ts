import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CometError } from '../../src/errors.ts';
import { check, messageBody } from '../../src/protocol.ts';
import { frames, handshakeAnswer } from '../support/fake-platform.ts';

const toHandshake = (value: unknown) => {
  const answer = check(value);
  return answer?.type === 'handshake' ? answer : undefined;
};

describe('protocol', () => {
  it('accepts the frames of §5.1', () => {
    for (const frame of [frames.open(), frames.msg(1), frames.hb(), frames.gap(1, 3), frames.close('recycle', 'now')]) {
      assert.deepEqual(check(frame), frame);
    }
  });

  it('turns values that are not well-formed frames into undefined, never an exception', () => {
    const bad: unknown[] = [null, undefined, 3, 'hb', [frames.hb()], {}, { type: 7 }, { type: 'msg', seq: 0, channel: 'a', data: 1 }, { type: 'msg', seq: 1, channel: 'a' },
      { type: 'msg', seq: 1.5, channel: 'a', data: 1 }, { type: 'msg', seq: 1, channel: 2, data: 1 }, { type: 'gap', from: 5, to: 2 },
      { type: 'close', code: 'x', reconnect: 'later' }, { type: 'open', seq: -1, heartbeatMs: 1 }, { type: 'open', seq: 0, heartbeatMs: '15000' }];
    for (const value of bad) assert.equal(check(value), undefined, JSON.stringify(value));
  });

  it('passes a frame type of a later version through, to be ignored', () => {
    assert.deepEqual(check({ type: 'future', x: 1 }), { type: 'future', x: 1 });
  });

  it('validates the handshake, every member of §4 the client relies on included', () => {
    const { value } = handshakeAnswer() as { value: Record<string, unknown> };
    assert.equal(toHandshake(value)?.maxBodyBytes, 65536);
    for (const member of ['seq', 'heartbeatMs', 'holdMs', 'retryMs', 'maxBatchMessages', 'maxBodyBytes']) {
      const { [member]: _left, ...short } = value;
      assert.equal(toHandshake(short), undefined, `without ${member}`);
    }
    assert.equal(toHandshake({ ...value, session: 'short' }), undefined);
    assert.equal(toHandshake({ ...value, v: 2 }), undefined);
    assert.equal(toHandshake({ ...value, transports: 'sse' }), undefined);
    assert.equal(toHandshake('<html>'), undefined);
  });

  it('reads an ack, or a close for an unknown session, as the answer to a send', () => {
    assert.deepEqual(check({ type: 'ack', ack: 2 }), { type: 'ack', ack: 2 });
    assert.equal(check({ type: 'close', code: 'unknown-session', reconnect: 'handshake' })?.type, 'close');
    assert.equal(check({ type: 'ack', ack: 'two' }), undefined);
    assert.equal(check({ type: 'ack', ack: 2, errors: [{ code: 'x' }] }), undefined);
    assert.equal(check({ type: 'ack', ack: 2, errors: 'none' }), undefined);
  });

  it('refuses to serialise data with a forbidden key or no JSON form, as publish-refused bad-data', () => {
    assert.equal(messageBody('publish', 'room/42', { a: [1] }), '"type":"publish","channel":"room/42","data":{"a":[1]}');
    assert.equal(messageBody('subscribe', 'room/42'), '"type":"subscribe","channel":"room/42"');
    // A string that only looks like a forbidden key is data like any other.
    assert.equal(messageBody('publish', 'c', 'say "constructor": hi'), '"type":"publish","channel":"c","data":"say \\"constructor\\": hi"');
    const refused = (error: unknown) => error instanceof CometError && error.type === 'publish-refused' && error.code === 'bad-data';
    assert.throws(() => messageBody('publish', 'c', JSON.parse('{"a":{"__proto__":{"x":1}}}')), refused);
    assert.throws(() => messageBody('publish', 'c', { constructor: 1 }), refused);
    assert.throws(() => messageBody('publish', 'c', [{ prototype: 1 }]), refused);
    assert.throws(() => messageBody('publish', 'c', undefined), refused);
    assert.throws(() => messageBody('publish', 'c', 1n), refused);
  });
});
