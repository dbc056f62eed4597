// The public API of issue 4, through the real one-shot helpers on a fake fetch and clock.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { batchMessages, CometClient, CometClientCore, CometError, type CometClientCoreOptions, type CometEvents } from '../../src/index.ts';
import { fakePlatform, fakeTransport, frames } from '../support/fake-platform.ts';
import { installFakeFetch } from '../support/fake-fetch.ts';

function app(options: Partial<CometClientCoreOptions> = { batching: batchMessages }) {
  const platform = fakePlatform();
  const xhr = installFakeFetch(platform);
  const sse = fakeTransport(platform, 'eventsource');
  const client = new CometClientCore('/comet', { transports: [sse], platform, ...options });
  const seen: string[] = [];
  client.on('statechange', ({ state, reason }) => seen.push(`${state} ${reason}`));
  client.on('transport', ({ name, reason }) => seen.push(`${name} ${reason}`));
  return { platform, xhr, sse, client, seen };
}

describe('CometClientCore', () => {
  it('subscribes, receives each message with its channel and seq, and publishes with an acknowledgement', async () => {
    const { platform, xhr, sse, client, seen } = app();
    assert.equal(client.state, 'connecting');
    const received: unknown[] = [];
    client.subscribe<{ text: string }>('room/42', (data, message) => received.push([data.text, message.channel, message.seq]));
    const published = client.publish('room/42', { text: 'hi' });
    platform.flush();
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1, 'room/42', { text: 'hello' }));
    await published;
    assert.deepEqual(received, [['hello', 'room/42', 1]]);
    assert.deepEqual(seen, ['eventsource preferred', 'open connected']);
    assert.equal(client.transport, 'eventsource');
    assert.deepEqual(xhr.bodies.slice(1).map((body) => JSON.parse(body ?? '') as unknown), [{
      messages: [{ id: 1, type: 'subscribe', channel: 'room/42' }, { id: 2, type: 'publish', channel: 'room/42', data: { text: 'hi' } }],
    }]);
  });

  it('sends one message per request by default (no batching), in order, each acknowledged', async () => {
    const { platform, xhr, sse, client } = app({});
    client.subscribe('room/42', () => undefined);
    const published = client.publish('room/42', { text: 'hi' });
    for (let step = 0; step < 4; step++) platform.flush();
    sse.last().deliver(frames.open());
    await published;
    assert.deepEqual(xhr.bodies.slice(1).map((body) => JSON.parse(body ?? '') as unknown), [
      { messages: [{ id: 1, type: 'subscribe', channel: 'room/42' }] },
      { messages: [{ id: 2, type: 'publish', channel: 'room/42', data: { text: 'hi' } }] },
    ]);
  });

  it('close() rejects a pending publish with a closed error, and reports the state and close', async () => {
    const { client, seen } = app();
    const closes: CometEvents['close'][] = [];
    client.on('close', (event) => closes.push(event));
    const pending = client.publish('room/42', 'late');
    client.close();
    await assert.rejects(pending, (error) => error instanceof CometError && error.type === 'closed');
    await assert.rejects(client.publish('room/42', 'after'), (error) => error instanceof CometError && error.type === 'closed');
    assert.equal(client.state, 'closed');
    assert.equal(client.transport, null);
    assert.deepEqual(seen, ['closed client-close']);
    assert.deepEqual(closes, [{ reason: 'client-close' }]);
  });

  it('rejects data that cannot be sent at once, with a typed error', async () => {
    const { client } = app();
    await assert.rejects(client.publish('room/42', { constructor: 'x' }), (error) => error instanceof CometError && error.type === 'publish-refused');
  });

  it("a listener that throws does not stop the others, and is reported as an 'error' event", () => {
    const { platform, sse, client, seen } = app();
    const errors: CometError[] = [];
    client.on('error', (error) => errors.push(error));
    client.on('statechange', () => {
      throw new Error('app bug');
    });
    client.on('statechange', ({ state }) => seen.push(`after ${state}`));
    platform.flush();
    assert.doesNotThrow(() => sse.last().deliver(frames.open()));
    assert.deepEqual(seen.slice(-2), ['open connected', 'after open']);
    assert.deepEqual(errors.map((error) => error.type), ['listener']);
  });
});

describe('CometClient', () => {
  it('resolves transport names in the order given', () => {
    const platform = fakePlatform();
    installFakeFetch(platform);
    const client = new CometClient('/comet', { transports: ['long-polling', 'eventsource'], platform });
    platform.flush();
    assert.equal(client.transport, 'long-polling');
    client.close();
  });
});
