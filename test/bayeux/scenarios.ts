// The scenarios every Bayeux server and transport goes through in Node, against a real server:
// the round trip (handshake, subscribe, publish acknowledged, received by another client,
// unsubscribe), a cut connection and a server restart.
import assert from 'node:assert/strict';
import type { BayeuxClientOptions, BayeuxMessage } from '../../src/bayeux/index.ts';
import type { BayeuxServer } from '../support/bayeux-servers.mjs';
import { recordedClient, untilDelivered, waitFor } from './support.ts';

export type ClientOptions = BayeuxClientOptions & { page?: boolean; eventSource?: boolean; fetch?: typeof fetch };

/** Two clients: the first subscribes, the second publishes; the first unsubscribes, and the server stops sending. */
export async function roundTrip(server: BayeuxServer, options: ClientOptions, expectedConnectionType: string): Promise<void> {
  // What reaches the first client on the wire, before its subscribers see it (an extension sees it all).
  const wire: string[] = [];
  const spy = { incoming: (message: BayeuxMessage) => { if (!message.channel.startsWith('/meta/')) wire.push(message.channel); } };
  const reader = recordedClient(server.url, { ...options, extensions: [spy] });
  const writer = recordedClient(server.url, options);
  try {
    const subscription = reader.listen('/chat/room');
    await waitFor(() => reader.client.state == 'open', 'the reader to open');
    // The subscription is live once a message published after it arrives.
    await untilDelivered((marker) => writer.client.publish('/chat/room', { marker }), () => reader.of('/chat/room').length > 0, 'a first delivery');
    await writer.client.publish('/chat/room', { text: 'hello' });
    await waitFor(() => reader.of('/chat/room').some((data) => (data as { text?: string }).text == 'hello'), 'hello');
    assert.equal(reader.client.transport, options.transports?.[0] ?? 'long-polling');
    assert.ok(server.stats.connectionTypes.has(expectedConnectionType), `connects named ${[...server.stats.connectionTypes].join(', ')}`);

    subscription.unsubscribe();
    // The reader's upstream messages go in order: once /chat/other delivers, the unsubscribe was applied.
    reader.listen('/chat/other');
    await untilDelivered((marker) => writer.client.publish('/chat/other', { marker }), () => reader.of('/chat/other').length > 0, 'the second subscription');
    const before = wire.filter((channel) => channel == '/chat/room').length;
    await writer.client.publish('/chat/room', { text: 'after unsubscribe' });
    await writer.client.publish('/chat/other', { text: 'last' });
    await waitFor(() => reader.of('/chat/other').some((data) => (data as { text?: string }).text == 'last'), 'the last message');
    assert.equal(wire.filter((channel) => channel == '/chat/room').length, before, 'the server sent nothing on /chat/room after the unsubscribe');
    assert.deepEqual(reader.errors.filter((error) => !error.willRetry), []);
  } finally {
    reader.close();
    writer.close();
  }
}

/** The connections cut while a connect is held: the same session goes on, nothing to resubscribe. */
export async function cutRecovered(server: BayeuxServer, options: ClientOptions): Promise<void> {
  const reader = recordedClient(server.url, options);
  try {
    reader.listen('/news');
    await untilDelivered((marker) => server.publish('/news', { marker }), () => reader.of('/news').length > 0, 'a first delivery');
    const handshakes = server.stats.handshakes;
    server.cut();
    await waitFor(() => reader.states.some((state) => state.startsWith('reconnecting')), 'the client to notice the cut');
    await waitFor(() => reader.client.state == 'open', 'the client to reconnect');
    const count = reader.of('/news').length;
    await untilDelivered((marker) => server.publish('/news', { marker, after: 'cut' }), () => reader.of('/news').length > count, 'a delivery after the cut');
    assert.equal(server.stats.handshakes, handshakes, 'the session survived the cut');
    assert.deepEqual(reader.gaps, []);
  } finally {
    reader.close();
  }
}

/** The server restarted (every session lost): the client handshakes again and resubscribes. */
export async function restartRecovered(server: BayeuxServer, options: ClientOptions): Promise<void> {
  const reader = recordedClient(server.url, options);
  try {
    reader.listen('/news');
    await untilDelivered((marker) => server.publish('/news', { marker }), () => reader.of('/news').length > 0, 'a first delivery');
    const handshakes = server.stats.handshakes;
    server.restart();
    await waitFor(() => reader.gaps.length > 0, 'the client to find its session gone');
    assert.deepEqual(reader.gaps, [{ reason: 'unknown-session' }]);
    const count = reader.of('/news').length;
    await untilDelivered((marker) => server.publish('/news', { marker, after: 'restart' }), () => reader.of('/news').length > count, 'a delivery after the restart');
    assert.ok(server.stats.handshakes > handshakes, 'a new handshake');
    assert.equal(reader.client.state, 'open');
  } finally {
    reader.close();
  }
}
