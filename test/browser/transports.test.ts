// Each transport on its own, raw, against the reference server in each engine: the frames arrive
// decoded and in order, from the page's own origin and from another one. The one expected failure
// is measured, not assumed: WebKit cannot read a multipart/x-mixed-replace body (docs/ENGINES.md).
import { expect } from 'chai';
import { eventsource } from '../../transports/eventsource.ts';
import { ndjsonLines, xhrStreaming } from '../../transports/xhr-streaming.ts';
import { multipart, multipartLines } from '../../transports/multipart.ts';
import { streamedLines } from '../../transports/streamed.ts';
import { chooseBodyReader as legacyChoice } from '../../src/legacy/body-reader.ts';
import { iframe } from '../../transports/iframe.ts';
import { longPolling } from '../../transports/long-polling.ts';
import { jsonp } from '../../transports/jsonp.ts';
import { streamsFetchBody } from '../../transports/body/fetch.ts';
import { browserPlatform, type Platform } from '../../src/platform.ts';
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

/** How xhr-streaming and multipart read a body (transports/streamed.ts). */
type Reader = 'fetch' | 'xhr';

/**
 * The two transports that read through `reader`: for fetch, as the modern bundles build them; for
 * XHR, as the legacy bundle does (src/legacy/body-reader.ts), whose feature detection picks XHR on
 * the counting platform below, which hides ReadableStream.
 */
const readingBy = (reader: Reader) => reader == 'fetch' ? { xhrStreaming, multipart } : {
  xhrStreaming: streamedLines('xhr-streaming', 'xhr', ndjsonLines, legacyChoice),
  multipart: streamedLines('multipart', 'multipart', multipartLines, legacyChoice),
};

/** How many fetches and XHRs a platform made. */
interface Made { fetch: number; xhr: number }

/**
 * The page's own globals as a platform, counting the fetches and XHRs made through it; for `xhr`,
 * without ReadableStream, as an engine that cannot stream a fetch body (the legacy bundle's).
 */
function countingPlatform(reader: Reader): { platform: Platform; made: Made } {
  const made: Made = { fetch: 0, xhr: 0 };
  const platform = {
    setTimeout: (callback: () => void, ms: number) => window.setTimeout(callback, ms),
    clearTimeout: (handle: unknown) => { window.clearTimeout(handle as number); },
    Date,
    Math,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      made.fetch += 1;
      return window.fetch(input, init);
    },
    XMLHttpRequest: class extends XMLHttpRequest {
      constructor() {
        super();
        made.xhr += 1;
      }
    },
    ReadableStream: reader == 'fetch' ? ReadableStream : undefined,
    TextDecoder,
  };
  return { platform, made };
}

function openRaw(transport: Transport, endpoint: string, session: string, platform = browserPlatform()): Run {
  const run: Run = {
    values: [],
    ended: false,
    failure: undefined,
    messages: () => run.values.filter((value) => value.type === 'msg'),
    close: () => { exchange.close(); },
  };
  const exchange = transport.open(platform, {
    url: `${endpoint}/${transport.resource}?session=${session}&since=0`,
    withCredentials: false,
    headers: {},
  }, {
    onValues: (batch) => { run.values.push(...(batch as Frame[])); },
    onEnd: (failure) => { run.ended = true; run.failure = failure; },
  });
  return run;
}

async function streams(transport: Transport, endpoint: string, platform?: Platform): Promise<void> {
  const { session, channel } = await subscribedSession(endpoint, transport.name);
  const run = openRaw(transport, endpoint, session, platform);
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

/** A streamed transport read by `reader`, which must be the one that made the request. */
async function streamsReadBy(transport: Transport, endpoint: string, reader: Reader): Promise<void> {
  const { platform, made } = countingPlatform(reader);
  await streams(transport, endpoint, platform);
  expect(made).to.deep.equal(reader == 'fetch' ? { fetch: 1, xhr: 0 } : { fetch: 0, xhr: 1 });
}

/** multipart in WebKit, read by `reader`: it fails before any frame, so a negotiator moves on. */
async function multipartFailsInWebKit(endpoint: string, platform?: Platform, transport = multipart): Promise<void> {
  const { session } = await subscribedSession(endpoint, 'multipart');
  const run = openRaw(transport, endpoint, session, platform);
  await waitFor(() => run.ended, 'the multipart exchange to fail');
  expect(run.values).to.deep.equal([]);
  expect(run.failure?.type).to.be.oneOf(['network', 'unsupported']);
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
      if (isWebKit) await multipartFailsInWebKit(endpoint);
      else await streams(multipart, endpoint);
    });

    // The README's transport table: which reader each engine's xhr-streaming and multipart use.
    it('this engine streams a fetch body, so xhr-streaming and multipart read through fetch here', () => {
      expect(streamsFetchBody(browserPlatform())).to.equal(true);
    });

    for (const reader of ['fetch', 'xhr'] as const) {
      const by = reader == 'fetch' ? 'fetch and a ReadableStream reader' : 'XMLHttpRequest at readyState 3 (the legacy bundle\'s, fetch bodies hidden)';
      const transports = readingBy(reader);
      it(`xhr-streaming read by ${by} streams frames as they are published`, async () => {
        await streamsReadBy(transports.xhrStreaming, (await fixtureEnv())[origin], reader);
      });

      it(isWebKit ? `multipart read by ${by} fails before any frame in WebKit` : `multipart read by ${by} streams frames as they are published`, async () => {
        const endpoint = (await fixtureEnv())[origin];
        if (isWebKit) await multipartFailsInWebKit(endpoint, countingPlatform(reader).platform, transports.multipart);
        else await streamsReadBy(transports.multipart, endpoint, reader);
      });
    }

    it('long-polling answers a poll with the frames published before it', async () => {
      await polls(longPolling, (await fixtureEnv())[origin]);
    });

    it('jsonp answers a poll with the frames published before it', async () => {
      await polls(jsonp, (await fixtureEnv())[origin]);
    });
  });
}
