// Builds a client (CometClientCore, as an application does) on a fake platform, with scripted
// transports and one-shot requests, and records what an application would see.
import { CometClientCore, type CometClientCoreOptions, type CometEvents } from '../../src/index.ts';
import { batchMessages } from '../../src/batching.ts';
import { pageLifecycle } from '../../src/lifecycle.ts';
import { createNegotiator } from '../../src/negotiator.ts';
import { fakeOneShot, type FakePlatform, type FakeTransport, type Responder } from './fake-platform.ts';

export type Recorded = { [Type in keyof CometEvents]: [Type, CometEvents[Type]] }[keyof CometEvents];

export const ENDPOINT = 'http://page.test/comet';

const eventTypes: (keyof CometEvents)[] = ['statechange', 'transport', 'gap', 'error', 'close'];

/**
 * The options the connection tests run with: what `CometClient` adds to the core (the full
 * negotiator, batched sends, the page's lifecycle events), the documented defaults otherwise.
 */
export function defaultOptions(platform: FakePlatform, transports: FakeTransport[]): CometClientCoreOptions {
  return { platform, transports, negotiator: createNegotiator, batching: batchMessages, lifecycle: pageLifecycle };
}

/** Records every event of `client`, in order. */
export function record(client: CometClientCore): Recorded[] {
  const events: Recorded[] = [];
  for (const type of eventTypes) client.on(type, (payload) => { events.push([type, payload] as Recorded); });
  return events;
}

export function harness(setup: {
  platform: FakePlatform;
  transports: FakeTransport[];
  options?: Partial<CometClientCoreOptions>;
  respond?: { handshake?: Responder; send?: Responder };
  endpoint?: string;
}) {
  const { platform } = setup;
  const io = fakeOneShot(platform, setup.respond);
  const received: { channel: string; seq: number; data: unknown }[] = [];
  const client = new CometClientCore(setup.endpoint ?? ENDPOINT, { ...defaultOptions(platform, setup.transports), ...setup.options });
  const events = record(client);
  return {
    platform,
    io,
    events,
    received,
    client,
    subscribe(channel: string) {
      return client.subscribe(channel, (data, message) => received.push({ channel: message.channel, seq: message.seq, data }));
    },
    /** The events of one type, payloads only. */
    of<Type extends keyof CometEvents>(type: Type): CometEvents[Type][] {
      return events.filter((event) => event[0] === type).map((event) => event[1] as CometEvents[Type]);
    },
    sends() {
      return io.requests.filter((request) => request.kind === 'send');
    },
    handshakes() {
      return io.requests.filter((request) => request.kind === 'handshake');
    },
  };
}
