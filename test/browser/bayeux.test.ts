// cometkit/bayeux in each engine against real Faye and CometD servers (test/support/bayeux-fixture.mjs):
// long-polling same-origin and cross-origin (CORS), callback-polling (JSONP) cross-origin and
// EventSource same-origin against Faye; long-polling same-origin and cross-origin against CometD.
// Each mode: the round trip, a cut connection and a server restart. Then one session per endpoint
// for the clients of a page, CometD's ack extension across lost connect replies, and the servers'
// count of concurrent /meta/connect per client.
import { expect } from 'chai';
import { BayeuxClient, type BayeuxClientOptions, type BayeuxMessage } from '../../src/bayeux/index.ts';
import type { CometError } from '../../src/errors.ts';
import type { Platform } from '../../src/platform.ts';
import type { GapEvent } from '../../src/types.ts';
import { waitFor } from './support.ts';

interface ServerStats { connects: number; maxConcurrentConnects: number; handshakes: number; dropped: number; connectionTypes: string[] }

/** This page's own servers: the engines run at once, and one's restart must not reach another's sessions. */
const lane = Math.random().toString(36).slice(2, 10);

async function control<T = ServerStats>(server: string, route: string, params: Record<string, string> = {}): Promise<T> {
  const response = await fetch(`/__bayeux/${lane}/${server}/${route}?${new URLSearchParams(params).toString()}`);
  return (await response.json()) as T;
}
/** Reads a server's counters until `condition` holds, with a generous bound. */
async function statsUntil(server: string, condition: (stats: ServerStats) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15000;
  while (!condition(await control(server, 'stats'))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const serverPublish = (server: string, channel: string, data: unknown) => control(server, 'publish', { channel, data: JSON.stringify(data) });

/**
 * Another tab of the same browser: a platform object of its own, so the page's pool does not share
 * its session (one session per endpoint and platform). CometD sees it as a second session of the
 * same browser (one cookie) and advises it to poll at an interval (multiple-clients).
 */
function otherTab(): Platform {
  return {
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => { clearTimeout(handle as number); },
    Date,
    Math,
    fetch: (input, init) => fetch(input, init),
    EventSource: globalThis.EventSource,
    document,
    window,
  };
}

/** The clients' debug trace in the current test, printed when it fails. */
let trace: string[] = [];
let clientCount = 0;
afterEach(function (this: { currentTest?: { state?: string } }) {
  if (this.currentTest?.state === 'failed') console.log(trace.join('\n'));
  trace = [];
});

function recorded(url: string, options: BayeuxClientOptions = {}) {
  const wire: string[] = [];
  const name = `client ${++clientCount}`;
  const started = Date.now();
  const spy = {
    incoming: (message: BayeuxMessage) => {
      if (!message.channel.startsWith('/meta/')) wire.push(message.channel);
      trace.push(`${Date.now() - started} ${name} in ${JSON.stringify(message)}`);
    },
    outgoing: (message: BayeuxMessage) => { trace.push(`${Date.now() - started} ${name} out ${JSON.stringify(message)}`); },
  };
  const logger = (message: string, detail?: unknown) => { trace.push(`${Date.now() - started} ${name} ${message} ${JSON.stringify(detail)}`); };
  const client = new BayeuxClient(url, { reconnect: { initialDelayMs: 100, maxDelayMs: 500 }, logger, ...options, extensions: [...options.extensions ?? [], spy] });
  const received = new Map<string, unknown[]>();
  const errors: CometError[] = [];
  const states: string[] = [];
  const gaps: GapEvent[] = [];
  client.on('error', (error) => errors.push(error));
  client.on('statechange', ({ state, reason }) => states.push(`${state}:${reason}`));
  client.on('gap', (gap) => gaps.push(gap));
  const of = (channel: string) => {
    let list = received.get(channel);
    if (!list) received.set(channel, list = []);
    return list;
  };
  return { client, wire, errors, states, gaps, of, listen: (channel: string) => client.subscribe(channel, (data) => of(channel).push(data)) };
}

/** Publishes markers until one arrives: a subscription is live on the server once a message published after it arrives. */
async function untilDelivered(publish: (marker: number) => Promise<unknown>, seen: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20000;
  for (let marker = 1; !seen(); marker += 1) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await publish(marker);
    await waitFor(seen, what, 500).catch(() => undefined);
  }
}

const unique = (prefix: string) => `/${prefix}/${Math.random().toString(36).slice(2, 8)}`;

interface Mode { name: string; server: string; url: () => string; options: BayeuxClientOptions; connectionType: string }

let env = { faye: '', cometd: '', cometdAck: '', fayeCrossPort: 0, cometdCrossPort: 0 };
const cross = (port: () => number, path: string) => () => `${location.protocol}//${location.hostname}:${port()}${path}`;

const modes: Mode[] = [
  { name: 'Faye, long-polling, same origin', server: 'faye', url: () => env.faye, options: { transports: ['long-polling'] }, connectionType: 'long-polling' },
  { name: 'Faye, long-polling, cross origin (CORS)', server: 'faye-cross', url: cross(() => env.fayeCrossPort, '/faye'), options: { transports: ['long-polling'] }, connectionType: 'long-polling' },
  { name: 'Faye, callback-polling, cross origin', server: 'faye-cross', url: cross(() => env.fayeCrossPort, '/faye'), options: { transports: ['jsonp'] }, connectionType: 'callback-polling' },
  { name: 'Faye, eventsource, same origin', server: 'faye', url: () => env.faye, options: { transports: ['eventsource'] }, connectionType: 'eventsource' },
  { name: 'CometD, long-polling, same origin', server: 'cometd', url: () => env.cometd, options: { transports: ['long-polling'] }, connectionType: 'long-polling' },
  // CometD finds a session by its cookie: cross-origin that needs credentials (and a same-site host name).
  { name: 'CometD, long-polling, cross origin (CORS)', server: 'cometd-cross', url: cross(() => env.cometdCrossPort, '/cometd'), options: { transports: ['long-polling'], withCredentials: true }, connectionType: 'long-polling' },
];

before(async () => {
  const response = await fetch(`/__bayeux/${lane}/env`);
  env = (await response.json()) as typeof env;
});

for (const mode of modes) {
  describe(`Bayeux: ${mode.name}`, () => {
    it('handshakes, subscribes, publishes with an acknowledgement, delivers to another client and unsubscribes', async () => {
      const channel = unique('chat');
      const reader = recorded(mode.url(), mode.options);
      const subscription = reader.listen(channel);
      // The other tab opens once this one is open: CometD finds sessions by a browser cookie, and two
      // first handshakes of one browser at the same moment get two cookies, the second overwriting the
      // first (its session then unknown at once: the client handshakes again, but the test would race).
      await waitFor(() => reader.client.state === 'open', 'the reader to open');
      const writer = recorded(mode.url(), { ...mode.options, platform: otherTab() });
      try {
        await untilDelivered((marker) => writer.client.publish(channel, { marker }), () => reader.of(channel).length > 0, 'a first delivery');
        await writer.client.publish(channel, { text: 'hello' });
        await waitFor(() => reader.of(channel).some((data) => (data as { text?: string }).text === 'hello'), 'hello');
        // In eventsource mode messages may come down the stream before the connect reply (the proof) does.
        await waitFor(() => reader.client.state === 'open', 'the reader to open');
        expect(reader.client.transport).to.equal(mode.options.transports?.[0]);
        expect((await control(mode.server, 'stats')).connectionTypes).to.include(mode.connectionType);

        subscription.unsubscribe();
        // The reader's upstream messages go in order: once the second channel delivers, the unsubscribe was applied.
        reader.listen(`${channel}/other`);
        await untilDelivered((marker) => writer.client.publish(`${channel}/other`, { marker }), () => reader.of(`${channel}/other`).length > 0, 'the second subscription');
        const before = reader.wire.filter((name) => name === channel).length;
        await writer.client.publish(channel, { text: 'after unsubscribe' });
        await writer.client.publish(`${channel}/other`, { text: 'last' });
        await waitFor(() => reader.of(`${channel}/other`).some((data) => (data as { text?: string }).text === 'last'), 'the last message');
        expect(reader.wire.filter((name) => name === channel).length, 'sent on the channel after the unsubscribe').to.equal(before);
        expect(reader.errors.filter((error) => !error.willRetry)).to.deep.equal([]);
      } finally {
        reader.client.close();
        writer.client.close();
      }
    });

    it('recovers a cut connection in the same session', async () => {
      const channel = unique('news');
      const reader = recorded(mode.url(), mode.options);
      try {
        reader.listen(channel);
        await untilDelivered((marker) => serverPublish(mode.server, channel, { marker }), () => reader.of(channel).length > 0, 'a first delivery');
        const { handshakes, connects } = await control(mode.server, 'cut');
        // Chromium sends a request whose reused connection was reset once more by itself, so the
        // client may not even see this cut: what counts is that a connect follows and messages flow.
        await statsUntil(mode.server, (stats) => stats.connects > connects, 'a connect after the cut');
        await waitFor(() => reader.client.state === 'open', 'the client to be open');
        const count = reader.of(channel).length;
        await untilDelivered((marker) => serverPublish(mode.server, channel, { marker, after: 'cut' }), () => reader.of(channel).length > count, 'a delivery after the cut');
        expect((await control(mode.server, 'stats')).handshakes, 'the session survived').to.equal(handshakes);
        expect(reader.gaps).to.deep.equal([]);
      } finally {
        reader.client.close();
      }
    });

    it('recovers a server restart: handshakes again and resubscribes', async () => {
      const channel = unique('news');
      const reader = recorded(mode.url(), mode.options);
      try {
        reader.listen(channel);
        await untilDelivered((marker) => serverPublish(mode.server, channel, { marker }), () => reader.of(channel).length > 0, 'a first delivery');
        await control(mode.server, 'restart');
        await waitFor(() => reader.gaps.length > 0, 'the client to find its session gone');
        expect(reader.gaps).to.deep.equal([{ reason: 'unknown-session' }]);
        const count = reader.of(channel).length;
        await untilDelivered((marker) => serverPublish(mode.server, channel, { marker, after: 'restart' }), () => reader.of(channel).length > count, 'a delivery after the restart');
        expect(reader.client.state).to.equal('open');
      } finally {
        reader.client.close();
      }
    });
  });
}

describe('Bayeux: one session per endpoint', () => {
  it('the clients of a page pointed at one endpoint share one handshake and each gets its messages', async () => {
    const channel = unique('shared');
    const { handshakes } = await control('cometd', 'stats');
    const first = recorded(env.cometd, { transports: ['long-polling'] });
    const second = recorded(env.cometd, { transports: ['long-polling'] });
    try {
      first.listen(channel);
      second.listen(channel);
      await untilDelivered((marker) => serverPublish('cometd', channel, { marker }), () => first.of(channel).length > 0 && second.of(channel).length > 0, 'both clients to receive');
      expect((await control('cometd', 'stats')).handshakes - handshakes).to.equal(1);
    } finally {
      first.client.close();
      second.client.close();
    }
  });
});

describe('Bayeux: CometD acknowledgement extension', () => {
  it('loses no message when connect replies are cut on their way: every one arrives once, in order', async () => {
    const channel = unique('feed');
    const reader = recorded(env.cometdAck, { transports: ['long-polling'] });
    try {
      reader.listen(channel);
      await untilDelivered((marker) => serverPublish('cometd-ack', channel, { marker }), () => reader.of(channel).length > 0, 'the subscription');
      let index = 0;
      for (let round = 0; round < 3; round += 1) {
        const { dropped } = await control('cometd-ack', 'drop', { count: '1' });
        for (let message = 0; message < 5; message += 1) await serverPublish('cometd-ack', channel, { index: ++index });
        await statsUntil('cometd-ack', (stats) => stats.dropped > dropped, `the reply of round ${round} cut`);
      }
      await untilDelivered(() => serverPublish('cometd-ack', channel, { last: true }), () => reader.of(channel).some((data) => (data as { last?: boolean }).last), 'the last message');
      const indexes = reader.of(channel).flatMap((data) => (data as { index?: number }).index ?? []);
      expect(indexes).to.deep.equal(Array.from({ length: index }, (_, at) => at + 1));
    } finally {
      reader.client.close();
    }
  });
});

describe('Bayeux: the servers saw', () => {
  it('never two /meta/connect of one client in flight (Faye leaves a second hanging, CometD answers it 500)', async () => {
    for (const server of ['faye', 'faye-cross', 'cometd', 'cometd-cross', 'cometd-ack']) {
      const stats = await control(server, 'stats');
      expect(stats.connects, `${server} saw connects`).to.be.greaterThan(0);
      expect(stats.maxConcurrentConnects, server).to.equal(1);
    }
  });
});
