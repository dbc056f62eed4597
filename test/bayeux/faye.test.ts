// cometkit/bayeux against a real Faye server (NodeAdapter on node:http, 127.0.0.1), over each
// connection type Faye offers: long-polling, callback-polling (in a jsdom page that runs the
// scripts) and EventSource (the eventsource package in Node).
import { after, before, describe, it } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { startBayeuxServer, type BayeuxServer } from '../support/bayeux-servers.mjs';
import { cutRecovered, restartRecovered, roundTrip, type ClientOptions } from './scenarios.ts';
import { recordedClient, waitFor } from './support.ts';

let server: BayeuxServer;
before(async () => { server = await startBayeuxServer('faye', { timeoutMs: 2000 }); });
after(async () => {
  // Faye leaves a second concurrent /meta/connect of one client hanging: the client never sends one.
  assert.equal(server.stats.maxConcurrentConnects, 1, 'never two /meta/connect of one client in flight');
  await server.stop();
});

const modes: [string, ClientOptions, string][] = [
  ['long-polling', { transports: ['long-polling'] }, 'long-polling'],
  ['callback-polling', { transports: ['jsonp'], page: true }, 'callback-polling'],
  ['eventsource', { transports: ['eventsource'], eventSource: true }, 'eventsource'],
];

for (const [name, options, connectionType] of modes) {
  describe(`Faye over ${name}`, () => {
    it('handshakes, subscribes, publishes with an acknowledgement, delivers to another client and unsubscribes', async () => {
      await roundTrip(server, options, connectionType);
    });
    it('recovers a cut connection in the same session', async () => {
      await cutRecovered(server, options);
    });
    it('recovers a server restart: handshakes again and resubscribes', async () => {
      await restartRecovered(server, options);
    });
  });
}

describe('Faye extensions', () => {
  it('an extension puts a token in the handshake ext; a handshake without it is refused as handshake-refused', async () => {
    const guard = {
      incoming(message: { channel: string; ext?: { token?: string }; error?: string }, callback: (message: unknown) => void) {
        if (message.channel == '/meta/handshake' && message.ext?.token != 'secret') message.error = '403::Forbidden token';
        callback(message);
      },
    };
    server.addExtension(guard);
    const allowed = recordedClient(server.url, { transports: ['long-polling'], extensions: [{ outgoing: (message) => { if (message.channel == '/meta/handshake') message.ext = { ...message.ext, token: 'secret' }; } }] });
    const refused = recordedClient(server.url, { transports: ['long-polling'] });
    try {
      await waitFor(() => allowed.client.state == 'open', 'the client with the token to open');
      await waitFor(() => refused.errors.length > 0, 'the refusal');
      assert.equal(refused.errors[0]?.type, 'handshake-refused');
      assert.equal(refused.errors[0].code, '403');
      assert.notEqual(refused.client.state, 'open');
    } finally {
      allowed.close();
      refused.close();
      server.removeExtension(guard);
    }
  });
});

describe("Faye's crash on an aborted held poll", () => {
  it('is real: a held callback-polling connect aborted by the client makes Faye write its head twice (the test server survives it guarded, and counts it)', async () => {
    const get = (messages: unknown[], abortAfterMs?: number) => new Promise<string>((resolve) => {
      const exchange = request(`${server.url}?jsonp=cb&message=${encodeURIComponent(JSON.stringify(messages))}`, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
        response.on('end', () => { resolve(body); });
      });
      exchange.on('error', () => { resolve(''); });
      exchange.end();
      if (abortAfterMs !== undefined) setTimeout(() => { exchange.destroy(); }, abortAfterMs);
    });
    const handshake = await get([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] }]);
    const clientId = /"clientId":"(\w+)"/.exec(handshake)?.[1];
    assert.ok(clientId);
    await get([{ channel: '/meta/connect', clientId, connectionType: 'callback-polling', advice: { timeout: 0 } }]);
    const before = server.stats.crashesAvoided;
    // Held for the server's 2 s timeout; the client gives up first.
    await get([{ channel: '/meta/connect', clientId, connectionType: 'callback-polling' }], 200);
    await waitFor(() => server.stats.crashesAvoided > before, 'the held reply to come after the abort');
  });

  it('is never provoked by the client: closing a callback-polling client leaves its held poll to the disconnect, which answers it', async () => {
    const before = server.stats.crashesAvoided;
    const reader = recordedClient(server.url, { transports: ['jsonp'], page: true });
    reader.listen('/quiet');
    await waitFor(() => reader.client.state == 'open' && server.stats.inFlight > 0, 'a held poll');
    reader.client.close();
    await waitFor(() => server.stats.inFlight == 0, 'the held poll answered');
    reader.close();
    assert.equal(server.stats.crashesAvoided, before);
  });
});
