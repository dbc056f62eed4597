// The EventSource transport on its own, against the reference server in each engine: values
// arrive decoded and in order, and closing the exchange stops delivery.
import { expect } from 'chai';
import { eventsource } from '../../transports/eventsource.ts';
import { browserPlatform } from '../../src/platform.ts';
import type { TransportFailure } from '../../transports/types.ts';
import { fixtureEnv, handshake, publish, send, waitFor } from './support.ts';

describe('eventsource transport', () => {
  it('delivers the open frame, then published messages in order', async () => {
    const { sameOrigin } = await fixtureEnv();
    const { session } = await handshake(sameOrigin);
    const channel = `es-${session.slice(0, 8)}`;
    await send(sameOrigin, session, [{ id: 1, type: 'subscribe', channel }]);

    const values: Record<string, unknown>[] = [];
    let ended = false;
    let failure: TransportFailure | undefined;
    const exchange = eventsource.open(browserPlatform(), {
      url: `${sameOrigin}/sse?session=${session}&since=0`,
      withCredentials: false,
      headers: {},
    }, {
      onValues: (batch) => { values.push(...(batch as Record<string, unknown>[])); },
      onEnd: (end) => { ended = true; failure = end; },
    });
    const messages = () => values.filter((value) => value.type === 'msg');
    try {
      await waitFor(() => values.length >= 1, 'the open frame');
      await publish(sameOrigin, channel, 3);
      await waitFor(() => messages().length >= 3, 'three messages');
    } finally {
      exchange.close();
    }
    expect(ended, `ended early: ${JSON.stringify(failure)}`).to.equal(false);
    expect(values[0]).to.include({ type: 'open' });
    expect(messages().map((value) => value.seq)).to.deep.equal([1, 2, 3]);
    expect(messages().map((value) => (value.data as { index: number }).index)).to.deep.equal([1, 2, 3]);
  });
});
