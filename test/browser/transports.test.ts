// Each transport on its own, raw, against the reference server in each engine: the frames arrive
// decoded and in order, from the page's own origin and from another one. The one expected failure
// is measured, not assumed: WebKit cannot read a multipart/x-mixed-replace body (docs/ENGINES.md).
import { expect } from 'chai';
import { eventsource } from '../../transports/eventsource.ts';
import { xhrStreaming } from '../../transports/xhr-streaming.ts';
import { multipart } from '../../transports/multipart.ts';
import { iframe } from '../../transports/iframe.ts';
import { longPolling } from '../../transports/long-polling.ts';
import { jsonp } from '../../transports/jsonp.ts';
import { browserPlatform } from '../../src/platform.ts';
import type { Transport, TransportFailure } from '../../transports/contract.ts';
import { fixtureEnv, handshake, isWebKit, publish, send, waitFor } from './support.ts';

type Frame = Record<string, unknown>;


interface Run {
  values: Frame[];
  ended: boolean;
  failure: TransportFailure | undefined;
  messages(): Frame[];
  close(): void;
}

async function subscribedSession(endpoint: string, prefix: string) {
  const { session } = await handshake(endpoint);
  const channel = `${prefix}-${session.slice(0, 8)}`;
  await send(endpoint, session, [{ id: 1, type: 'subscribe', channel }]);
  return { session, channel };
}

function openRaw(transport: Transport, endpoint: string, session: string): Run {
  const run: Run = {
    values: [],
    ended: false,
    failure: undefined,
    messages: () => run.values.filter((value) => value.type === 'msg'),
    close: () => { exchange.close(); },
  };
  const exchange = transport.open(browserPlatform(), {
    url: `${endpoint}/${transport.resource}?session=${session}&since=0`,
    withCredentials: false,
    headers: {},
  }, {
    onValues: (batch) => { run.values.push(...(batch as Frame[])); },
    onEnd: (failure) => { run.ended = true; run.failure = failure; },
  });
  return run;
}

async function streams(transport: Transport, endpoint: string): Promise<void> {
  const { session, channel } = await subscribedSession(endpoint, transport.name);
  const run = openRaw(transport, endpoint, session);
  try {
    await waitFor(() => run.values.length >= 1 || run.ended, 'the open frame');
    expect(run.failure, 'failure').to.equal(undefined);
    expect(run.values[0]).to.include({ type: 'open' });
    // Published after the stream opened: they must arrive on it as they happen.
    await publish(endpoint, channel, 3, 200);
    await waitFor(() => run.messages().length >= 3 || run.ended, 'three messages');
  } finally {
    run.close();
  }
  expect(run.ended, `ended early: ${JSON.stringify(run.failure)}`).to.equal(false);
  expect(run.messages().map((value) => value.seq)).to.deep.equal([1, 2, 3]);
}

async function polls(transport: Transport, endpoint: string): Promise<void> {
  const { session, channel } = await subscribedSession(endpoint, transport.name);
  await publish(endpoint, channel, 3);
  const run = openRaw(transport, endpoint, session);
  await waitFor(() => run.ended, 'the poll to be answered');
  expect(run.failure, 'failure').to.equal(undefined);
  expect(run.messages().map((value) => value.seq)).to.deep.equal([1, 2, 3]);
}

for (const origin of ['sameOrigin', 'crossOrigin'] as const) {
  describe(`transports, raw, ${origin === 'sameOrigin' ? 'same origin' : 'cross origin'}`, () => {
    it('eventsource streams frames as they are published', async () => {
      await streams(eventsource, (await fixtureEnv())[origin]);
    });

    it('xhr-streaming streams frames as they are published', async () => {
      await streams(xhrStreaming, (await fixtureEnv())[origin]);
    });

    it('iframe streams frames as they are published', async () => {
      await streams(iframe, (await fixtureEnv())[origin]);
    });

    it(isWebKit ? 'multipart fails before any frame in WebKit, so a negotiator moves on' : 'multipart streams frames as they are published', async () => {
      const endpoint = (await fixtureEnv())[origin];
      if (!isWebKit) {
        await streams(multipart, endpoint);
        return;
      }
      const { session } = await subscribedSession(endpoint, 'multipart');
      const run = openRaw(multipart, endpoint, session);
      await waitFor(() => run.ended, 'the multipart exchange to fail');
      expect(run.values).to.deep.equal([]);
      expect(run.failure?.type).to.be.oneOf(['network', 'unsupported']);
    });

    it('long-polling answers a poll with the frames published before it', async () => {
      await polls(longPolling, (await fixtureEnv())[origin]);
    });

    it('jsonp answers a poll with the frames published before it', async () => {
      await polls(jsonp, (await fixtureEnv())[origin]);
    });
  });
}
