// cometkit/bayeux against a real CometD server (cometd-nodejs-server on node:http, 127.0.0.1). It
// offers long-polling only and finds a session by its BAYEUX_BROWSER cookie, so each client here
// has a cookie jar of its own, as a browser has.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BayeuxMessage } from '../../src/bayeux/index.ts';
import { startBayeuxServer, type BayeuxServer } from '../support/bayeux-servers.mjs';
import { cutRecovered, restartRecovered, roundTrip } from './scenarios.ts';
import { recordedClient, untilDelivered, waitFor } from './support.ts';
import { cookieFetch } from '../support/node-platform.ts';

let server: BayeuxServer;
let acking: BayeuxServer;
before(async () => {
  server = await startBayeuxServer('cometd', { timeoutMs: 2000 });
  acking = await startBayeuxServer('cometd', { timeoutMs: 2000, ack: true });
});
after(async () => {
  // CometD answers a second concurrent /meta/connect of one client with a 500: the client never sends one.
  assert.equal(server.stats.maxConcurrentConnects, 1, 'never two /meta/connect of one client in flight');
  assert.equal(acking.stats.maxConcurrentConnects, 1, 'never two /meta/connect of one client in flight (ack)');
  await server.stop();
  await acking.stop();
});

describe('CometD over long-polling', () => {
  it('handshakes, subscribes, publishes with an acknowledgement, delivers to another client and unsubscribes', async () => {
    await roundTrip(server, { transports: ['long-polling'] }, 'long-polling');
  });
  it('recovers a cut connection in the same session', async () => {
    await cutRecovered(server, { transports: ['long-polling'] });
  });
  it('recovers a server restart: handshakes again and resubscribes', async () => {
    await restartRecovered(server, { transports: ['long-polling'] });
  });
  it('a client that prefers callback-polling settles on long-polling, the only type this server offers', async () => {
    const reader = recordedClient(server.url, { transports: ['jsonp', 'long-polling'], page: true });
    try {
      reader.listen('/news');
      await untilDelivered((marker) => server.publish('/news', { marker }), () => reader.of('/news').length > 0, 'a delivery');
      assert.equal(reader.client.transport, 'long-polling');
    } finally {
      reader.close();
    }
  });
});

describe('CometD advice', () => {
  it('a second session of one browser obeys the multiple-clients advice: it polls at the advised interval and still gets every message', async () => {
    // Two platforms with one cookie jar: two tabs of one browser, each with a session of its own.
    const jar = cookieFetch();
    const advised: BayeuxMessage[] = [];
    const spy = { incoming: (message: BayeuxMessage) => { if (message.advice?.['multiple-clients']) advised.push(message); } };
    const first = recordedClient(server.url, { transports: ['long-polling'], fetch: jar, extensions: [spy] });
    const second = recordedClient(server.url, { transports: ['long-polling'], fetch: jar, extensions: [spy] });
    try {
      first.listen('/multi');
      second.listen('/multi');
      await untilDelivered((marker) => server.publish('/multi', { marker }), () => first.of('/multi').length > 0 && second.of('/multi').length > 0, 'both sessions to receive');
      await waitFor(() => advised.length > 0, 'the multiple-clients advice');
      assert.ok(advised.every((message) => message.successful && (message.advice?.interval ?? 0) > 0), 'advised to poll at an interval');
      assert.deepEqual([first.client.state, second.client.state], ['open', 'open']);
    } finally {
      first.close();
      second.close();
    }
  });

  it('a handshake the security policy denies is refused with advice none: the client closes', async () => {
    const { cometd } = server.server as { cometd: { policy?: object } };
    cometd.policy = { canHandshake: (_session: unknown, _message: unknown, callback: (error: undefined, allowed: boolean) => void) => { callback(undefined, false); } };
    const refused = recordedClient(server.url, { transports: ['long-polling'] });
    try {
      await waitFor(() => refused.client.state == 'closed', 'the client to close');
      assert.deepEqual(refused.states, ['closed:handshake-refused']);
      assert.equal(refused.errors[0]?.type, 'handshake-refused');
      assert.equal(refused.errors[0].code, '403');
      assert.equal(refused.errors[0].willRetry, false);
    } finally {
      refused.close();
      delete cometd.policy;
    }
  });
});

describe('CometD acknowledgement extension', () => {
  /**
   * Subscribes a reader, then five times: publishes ten messages and cuts the connection of the
   * /meta/connect reply that carries them, as a proxy or a network failure would. Returns the
   * indexes the reader received, once a last message published after the cuts arrived.
   */
  async function throughLostReplies(ack: boolean): Promise<{ indexes: number[]; acks: unknown[] }> {
    const acks: unknown[] = [];
    const spy = { outgoing: (message: BayeuxMessage) => { if (message.channel == '/meta/connect') acks.push(message.ext?.ack); } };
    const reader = recordedClient(acking.url, { transports: ['long-polling'], ack, extensions: [spy] });
    try {
      reader.listen('/feed');
      await untilDelivered((marker) => acking.publish('/feed', { marker }), () => reader.of('/feed').length > 0, 'the subscription');
      let index = 0;
      for (let round = 0; round < 5; round += 1) {
        const { dropped } = acking.stats;
        acking.dropConnectReplies(1);
        for (let message = 0; message < 10; message += 1) void acking.publish('/feed', { index: ++index });
        await waitFor(() => acking.stats.dropped > dropped, `the reply of round ${round} cut`);
        const { connects } = acking.stats;
        await waitFor(() => acking.stats.connects > connects, `a connect after round ${round}`);
      }
      await untilDelivered(() => acking.publish('/feed', { last: true }), () => reader.of('/feed').some((data) => (data as { last?: boolean }).last), 'the last message');
      const indexes = reader.of('/feed').flatMap((data) => (data as { index?: number }).index ?? []);
      return { indexes, acks };
    } finally {
      reader.close();
    }
  }

  it('with it, no message is lost when connect replies are cut on their way: every one arrives once, in order', async () => {
    const { indexes, acks } = await throughLostReplies(true);
    assert.deepEqual(indexes, Array.from({ length: 50 }, (_, at) => at + 1));
    assert.ok(acks.some((ack) => typeof ack == 'number' && ack > 0), 'the connects acknowledged batches');
  });

  it('without it (ack: false), the same cuts lose the messages of the cut replies', async () => {
    const { indexes, acks } = await throughLostReplies(false);
    assert.ok(indexes.length < 50, `lost ${50 - indexes.length} of 50`);
    assert.deepEqual(acks.filter((ack) => ack !== undefined), []);
  });
});
