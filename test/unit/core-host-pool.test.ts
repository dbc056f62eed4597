import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ConnectionEvents } from '../../src/connection.ts';
import { join } from '../../src/host-pool.ts';
import { defaultOptions, ENDPOINT } from '../support/core-harness.ts';
import { fakeOneShot, fakePlatform, fakeTransport, frames } from '../support/fake-platform.ts';

function page() {
  const platform = fakePlatform();
  const sse = fakeTransport(platform, 'eventsource');
  const io = fakeOneShot(platform);
  const options = defaultOptions(platform, [sse]);
  const client = () => {
    const errors: ConnectionEvents['error'][] = [];
    const member = join(ENDPOINT, options, io, (type, payload) => {
      if (type === 'error') errors.push(payload as ConnectionEvents['error']);
    });
    return { member, errors };
  };
  const upstream = () => io.requests.filter((request) => request.kind === 'send').flatMap((request) => request.messages.map((message) => `${message.type} ${message.channel}`));
  return { platform, sse, io, client, upstream };
}

describe('host pool', () => {
  it('clients of one endpoint share one connection: one handshake, one stream', () => {
    const { platform, sse, io, client } = page();
    const first = client();
    const second = client();
    platform.flush();
    assert.equal(first.member.connection, second.member.connection);
    assert.equal(io.requests.filter((request) => request.kind === 'handshake').length, 1);
    assert.equal(sse.exchanges.length, 1);
    const other = join('http://page.test/other', defaultOptions(platform, [sse]), io, () => undefined);
    assert.notEqual(other.connection, first.member.connection);
  });

  it('the server sees one subscribe per channel, and the unsubscribe only when the last handler goes', () => {
    const { platform, sse, client, upstream } = page();
    const first = client();
    const second = client();
    const heard: string[] = [];
    const stopFirst = first.member.subscribe('room/42', (data) => heard.push(`first ${String(data)}`));
    const stopSecond = second.member.subscribe('room/42', (data) => heard.push(`second ${String(data)}`));
    platform.flush();
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1, 'room/42', 'hi'), frames.msg(2, 'elsewhere', 'no'));
    assert.deepEqual(heard, ['first hi', 'second hi']);
    stopFirst();
    stopFirst();
    platform.flush();
    assert.deepEqual(upstream(), ['subscribe room/42']);
    stopSecond();
    platform.flush();
    assert.deepEqual(upstream(), ['subscribe room/42', 'unsubscribe room/42']);
  });

  it("a handler that throws does not stop delivery to the others; its own client hears a 'listener' error", () => {
    const { platform, sse, client } = page();
    const first = client();
    const second = client();
    const heard: string[] = [];
    first.member.subscribe('room/42', () => {
      throw new Error('app bug');
    });
    second.member.subscribe('room/42', (data) => heard.push(String(data)));
    platform.flush();
    assert.doesNotThrow(() => sse.last().deliver(frames.open(), frames.msg(1, 'room/42', 'hi')));
    assert.deepEqual(heard, ['hi']);
    assert.deepEqual(first.errors.map((error) => [error.type, (error.cause as Error).message]), [['listener', 'app bug']]);
    assert.deepEqual(second.errors, []);
  });

  it('closes the shared connection when the last client leaves, without unsubscribing first', () => {
    const { platform, sse, client, upstream } = page();
    const first = client();
    const second = client();
    first.member.subscribe('room/42', () => undefined);
    platform.flush();
    platform.flush();
    sse.last().deliver(frames.open());
    first.member.leave();
    platform.flush();
    assert.equal(second.member.connection.state, 'open');
    assert.deepEqual(upstream(), ['subscribe room/42', 'unsubscribe room/42']);
    second.member.leave();
    assert.equal(second.member.connection.state, 'closed');
    assert.ok(sse.last().closedByClient);
    assert.equal(platform.inFlight, 0);
    const third = client();
    assert.notEqual(third.member.connection, second.member.connection, 'a new client gets a new connection');
  });
});
