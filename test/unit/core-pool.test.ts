// sharedConnections (pool.ts), through the public client as CometClient uses it: clients of one
// endpoint share one connection, their subscriptions reference-counted on it.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CometClientCore, sharedConnections, type CometError } from '../../src/index.ts';
import { defaultOptions, ENDPOINT } from '../support/core-harness.ts';
import { fakeOneShot, fakePlatform, fakeTransport, frames } from '../support/fake-platform.ts';

function page() {
  const platform = fakePlatform();
  const sse = fakeTransport(platform, 'eventsource');
  const io = fakeOneShot(platform);
  const client = (endpoint = ENDPOINT) => {
    const errors: CometError[] = [];
    const comet = new CometClientCore(endpoint, { ...defaultOptions(platform, [sse]), connect: sharedConnections });
    comet.on('error', (error) => errors.push(error));
    return { comet, errors };
  };
  const upstream = () => io.requests.filter((request) => request.kind === 'send').flatMap((request) => request.messages.map((message) => `${message.type} ${message.channel}`));
  const handshakes = () => io.requests.filter((request) => request.kind === 'handshake');
  return { platform, sse, io, client, upstream, handshakes };
}

describe('shared connections', () => {
  it('clients of one endpoint share one connection: one handshake, one stream', () => {
    const { platform, sse, client, handshakes } = page();
    const first = client();
    const second = client();
    platform.flush();
    assert.equal(handshakes().length, 1);
    assert.equal(sse.exchanges.length, 1);
    sse.last().deliver(frames.open());
    assert.deepEqual([first.comet.state, second.comet.state], ['open', 'open']);
    client('http://page.test/other');
    platform.flush();
    assert.equal(handshakes().length, 2, 'another endpoint gets its own connection');
    assert.equal(sse.exchanges.length, 2);
  });

  it('the server sees one subscribe per channel, and the unsubscribe only when the last handler goes', () => {
    const { platform, sse, client, upstream } = page();
    const first = client();
    const second = client();
    const heard: string[] = [];
    const firstSubscription = first.comet.subscribe('room/42', (data) => heard.push(`first ${String(data)}`));
    const secondSubscription = second.comet.subscribe('room/42', (data) => heard.push(`second ${String(data)}`));
    platform.flush();
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1, 'room/42', 'hi'), frames.msg(2, 'elsewhere', 'no'));
    assert.deepEqual(heard, ['first hi', 'second hi']);
    firstSubscription.unsubscribe();
    firstSubscription.unsubscribe();
    platform.flush();
    assert.deepEqual(upstream(), ['subscribe room/42']);
    secondSubscription.unsubscribe();
    platform.flush();
    assert.deepEqual(upstream(), ['subscribe room/42', 'unsubscribe room/42']);
  });

  it("a handler that throws does not stop delivery to the others; its own client hears a 'listener' error", () => {
    const { platform, sse, client } = page();
    const first = client();
    const second = client();
    const heard: string[] = [];
    first.comet.subscribe('room/42', () => {
      throw new Error('app bug');
    });
    second.comet.subscribe('room/42', (data) => heard.push(String(data)));
    platform.flush();
    assert.doesNotThrow(() => sse.last().deliver(frames.open(), frames.msg(1, 'room/42', 'hi')));
    assert.deepEqual(heard, ['hi']);
    assert.deepEqual(first.errors.map((error) => [error.type, (error.cause as Error).message]), [['listener', 'app bug']]);
    assert.deepEqual(second.errors, []);
  });

  it('a client that leaves takes its handlers and pending publishes; the last one closes the shared connection, without unsubscribing first', async () => {
    const { platform, sse, client, upstream, handshakes } = page();
    const first = client();
    const second = client();
    first.comet.subscribe('room/42', () => undefined);
    second.comet.subscribe('news', () => undefined);
    platform.flush();
    platform.flush();
    sse.last().deliver(frames.open());
    const pending = first.comet.publish('room/42', 'late');
    first.comet.close();
    await assert.rejects(pending, (error: CometError) => error.type === 'closed');
    assert.equal(first.comet.state, 'closed');
    platform.flush();
    assert.equal(second.comet.state, 'open');
    assert.deepEqual(upstream(), ['subscribe room/42', 'subscribe news', 'publish room/42', 'unsubscribe room/42']);
    second.comet.close();
    assert.equal(second.comet.state, 'closed');
    assert.ok(sse.last().closedByClient);
    platform.flush();
    assert.deepEqual(upstream().at(-1), 'unsubscribe room/42', 'the last client does not unsubscribe');
    assert.equal(platform.inFlight, 0);
    client();
    platform.flush();
    assert.equal(handshakes().length, 2, 'a new client gets a new connection');
  });
});
