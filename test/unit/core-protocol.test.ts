import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { messageBody, originOf, resourceUrl, toAnswer, toFrame, toHandshake } from '../../src/protocol.ts';
import { frames, handshakeAnswer } from '../support/fake-platform.ts';

describe('protocol', () => {
  it('accepts the frames of §5.1', () => {
    for (const frame of [frames.open(), frames.msg(1), frames.hb(), frames.gap(1, 3), frames.close('recycle', 'now')]) {
      assert.deepEqual(toFrame(frame), frame);
    }
  });

  it('turns values that are not well-formed frames into undefined, never an exception', () => {
    const bad: unknown[] = [null, 3, 'hb', [frames.hb()], {}, { type: 'msg', seq: 0, channel: 'a', data: 1 }, { type: 'msg', seq: 1, channel: 'a' },
      { type: 'msg', seq: 1.5, channel: 'a', data: 1 }, { type: 'gap', from: 5, to: 2 }, { type: 'close', code: 'x', reconnect: 'later' },
      { type: 'open', seq: -1, heartbeatMs: 1 }];
    for (const value of bad) assert.equal(toFrame(value), undefined, JSON.stringify(value));
  });

  it('passes a frame type of a later version through, to be ignored', () => {
    assert.deepEqual(toFrame({ type: 'future', x: 1 }), { type: 'future', x: 1 });
  });

  it('validates the handshake and fills the limits it leaves out', () => {
    const { value } = handshakeAnswer() as { value: Record<string, unknown> };
    assert.equal(toHandshake(value)?.maxBodyBytes, 65536);
    const { holdMs: _holdMs, maxBodyBytes: _maxBodyBytes, ...older } = value;
    assert.deepEqual([toHandshake(older)?.holdMs, toHandshake(older)?.maxBodyBytes], [25000, 65536]);
    assert.equal(toHandshake({ ...value, session: 'short' }), undefined);
    assert.equal(toHandshake({ ...value, v: 2 }), undefined);
    assert.equal(toHandshake('<html>'), undefined);
  });

  it('reads an ack, or a close for an unknown session, as the answer to a send', () => {
    assert.deepEqual(toAnswer({ type: 'ack', ack: 2 }), { type: 'ack', ack: 2, errors: [] });
    assert.equal(toAnswer({ type: 'close', code: 'unknown-session', reconnect: 'handshake' })?.type, 'close');
    assert.equal(toAnswer({ type: 'ack', ack: 'two' }), undefined);
    assert.equal(toAnswer({ type: 'ack', ack: 2, errors: [{ code: 'x' }] }), undefined);
  });

  it('refuses to serialise data with a forbidden key or no JSON form', () => {
    assert.equal(messageBody('publish', 'room/42', { a: [1] }), '"type":"publish","channel":"room/42","data":{"a":[1]}');
    assert.equal(messageBody('subscribe', 'room/42'), '"type":"subscribe","channel":"room/42"');
    assert.throws(() => messageBody('publish', 'c', JSON.parse('{"a":{"__proto__":{"x":1}}}')));
    assert.throws(() => messageBody('publish', 'c', { constructor: 1 }));
    assert.throws(() => messageBody('publish', 'c', undefined));
    assert.throws(() => messageBody('publish', 'c', 1n));
  });

  it('builds resource URLs with encoded parameters', () => {
    assert.equal(resourceUrl('https://x.test/comet', 'poll', { session: 'a b', since: 3 }), 'https://x.test/comet/poll?session=a%20b&since=3');
    assert.equal(originOf('HTTPS://X.test:8443/comet'), 'https://x.test:8443');
    assert.equal(originOf('/comet'), undefined);
  });
});
