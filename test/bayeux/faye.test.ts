// cometkit/bayeux against a real Faye server (NodeAdapter on node:http, 127.0.0.1), over each
// connection type Faye offers: long-polling, callback-polling (in a jsdom page that runs the
// scripts) and EventSource (the eventsource package in Node).
import { after, before, describe, it } from 'node:test';
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
