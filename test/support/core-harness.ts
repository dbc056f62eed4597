// Builds a client connection (through the host pool, as CometClientCore does) on a fake platform,
// with scripted transports and one-shot requests, and records what an application would see.
import type { ConnectionEvents, ConnectionOptions } from '../../src/connection.ts';
import { join, type Member } from '../../src/host-pool.ts';
import { createNegotiator } from '../../src/negotiator.ts';
import { fakeOneShot, type FakePlatform, type FakeTransport, type Responder } from './fake-platform.ts';

export type Recorded = { [Type in keyof ConnectionEvents]: [Type, ConnectionEvents[Type]] }[keyof ConnectionEvents];

export const ENDPOINT = 'http://page.test/comet';

export function defaultOptions(platform: FakePlatform, transports: FakeTransport[]): ConnectionOptions {
  return {
    platform,
    transports,
    negotiator: createNegotiator,
    reconnect: { initialDelayMs: 1000, maxDelayMs: 30000, maxAttempts: Infinity, maxElapsedMs: Infinity },
    probeTimeoutMs: 5000,
    reprobeMs: 60000,
    heartbeatToleranceFactor: 2,
    heartbeatToleranceMs: undefined,
    withCredentials: false,
    headers: {},
    sendTimeoutMs: 15000,
    logger: () => undefined,
  };
}

export function harness(setup: {
  platform: FakePlatform;
  transports: FakeTransport[];
  options?: Partial<ConnectionOptions>;
  respond?: { handshake?: Responder; send?: Responder };
  endpoint?: string;
}) {
  const { platform } = setup;
  const io = fakeOneShot(platform, setup.respond);
  const events: Recorded[] = [];
  const received: { channel: string; seq: number; data: unknown }[] = [];
  const options = Object.assign(defaultOptions(platform, setup.transports), setup.options);
  const member: Member = join(setup.endpoint ?? ENDPOINT, options, io, (type, payload) => {
    events.push([type, payload] as Recorded);
  });
  return {
    platform,
    io,
    events,
    received,
    member,
    connection: member.connection,
    subscribe(channel: string) {
      return member.subscribe(channel, (data, message) => received.push({ channel: message.channel, seq: message.seq, data }));
    },
    /** The events of one type, payloads only. */
    of<Type extends keyof ConnectionEvents>(type: Type): ConnectionEvents[Type][] {
      return events.filter((event) => event[0] === type).map((event) => event[1] as ConnectionEvents[Type]);
    },
    sends() {
      return io.requests.filter((request) => request.kind === 'send');
    },
    handshakes() {
      return io.requests.filter((request) => request.kind === 'handshake');
    },
  };
}
