// The public client against the reference server in each engine: every transport forced alone and
// the negotiator's own choice; subscribe, receive in order, publish round trips; same origin and
// cross origin; and never more than two requests in flight for the client's session.
import { expect } from 'chai';
import { CometClient, type CometError, type TransportName } from '../../src/index.ts';
import { fixtureEnv, isWebKit, publish, waitFor, type FixtureEnv } from './support.ts';

const ALL: TransportName[] = ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp'];

interface Received { channel: string; seq: number; index: number }

async function roundTrip(endpoint: string, transports: TransportName[], count = 20) {
  const client = new CometClient(endpoint, { transports, probeTimeoutMs: 4000 });
  const errors: CometError[] = [];
  client.on('error', (error) => errors.push(error));
  const channel = `client-${transports.length === 1 ? transports[0]! : 'any'}-${Math.random().toString(36).slice(2, 8)}`;
  const received: Received[] = [];
  const echoes: unknown[] = [];
  client.subscribe(channel, (data, info) => {
    received.push({ channel: info.channel, seq: info.seq, index: (data as { index: number }).index });
  });
  client.subscribe(`${channel}-echo`, (data) => echoes.push(data));
  try {
    // A publish resolves once the server applied it, and our subscribe went first (in order).
    await client.publish(`${channel}-echo`, { text: 'hello' });
    await waitFor(() => echoes.length === 1, 'our own publish echoed back');
    await publish(endpoint, channel, count);
    await waitFor(() => received.length >= count, `${count} messages`);
    return { transport: client.transport, received, echoes, errors };
  } finally {
    client.close();
  }
}

async function inFlightPeak(endpoint: string): Promise<number> {
  const control = endpoint.replace(/\/comet$/, '/__fixture');
  const inspection = await (await fetch(`${control}/inspect`)).json() as { perSession: { maxInFlight: number }[] };
  return Math.max(0, ...inspection.perSession.map((session) => session.maxInFlight));
}

describe('CometClient', () => {
  let env: FixtureEnv;
  before(async () => { env = await fixtureEnv(); });

  for (const name of ALL) {
    // Measured, not assumed: WebKit cannot read a multipart body (docs/ENGINES.md), so forcing
    // multipart alone there must fail with a typed error rather than hang or pretend.
    if (name === 'multipart' && isWebKit) {
      it('multipart forced alone reports a typed error in WebKit', async () => {
        const client = new CometClient(env.sameOrigin, { transports: ['multipart'], probeTimeoutMs: 2000, reconnect: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 } });
        const errors: CometError[] = [];
        client.on('error', (error) => errors.push(error));
        client.subscribe('webkit-multipart', () => undefined);
        try {
          await waitFor(() => errors.length > 0, 'a typed error');
        } finally {
          client.close();
        }
        expect(errors[0]?.transport).to.equal('multipart');
      });
      continue;
    }
    it(`${name} forced alone: same-origin round trip, in order, exactly once`, async () => {
      const result = await roundTrip(env.sameOrigin, [name]);
      expect(result.transport === name || result.transport === null).to.equal(true);
      expect(result.received.map((message) => message.index)).to.deep.equal(Array.from({ length: 20 }, (_, index) => index + 1));
      expect(result.echoes).to.deep.equal([{ text: 'hello' }]);
    });
    it(`${name} forced alone: cross-origin round trip`, async () => {
      const result = await roundTrip(env.crossOrigin, [name], 10);
      expect(result.received.map((message) => message.index)).to.deep.equal(Array.from({ length: 10 }, (_, index) => index + 1));
    });
  }

  it('multipart then long-polling: WebKit finds out by probing that multipart fails and moves on', async () => {
    const result = await roundTrip(env.sameOrigin, ['multipart', 'long-polling'], 10);
    expect(result.received.map((message) => message.index)).to.deep.equal(Array.from({ length: 10 }, (_, index) => index + 1));
    expect(result.transport).to.equal(isWebKit ? 'long-polling' : 'multipart');
  });

  it('the negotiator picks a working transport by itself', async () => {
    const result = await roundTrip(env.sameOrigin, ALL, 10);
    expect(result.received).to.have.length(10);
  });

  it('never has more than two requests in flight for its session', async () => {
    await roundTrip(env.sameOrigin, ALL, 10);
    expect(await inFlightPeak(env.sameOrigin)).to.be.at.most(2);
  });
});
