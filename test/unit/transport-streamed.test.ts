// Which body reader xhr-streaming and multipart use (transports/streamed.ts), found by feature
// detection: in the modern bundles fetch with a ReadableStream reader, and nothing where fetch
// cannot stream (transports/body/choice.ts: the transports are unsupported there, and the client
// moves on); in the legacy bundle the same, else XHR at readyState 3 (src/legacy/body-reader.ts,
// which the legacy build puts in choice.ts's place). What each reader does is tested in
// transport-xhr-streaming.test.ts and transport-multipart.test.ts, once per reader.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { ndjsonLines, xhrStreaming } from '../../transports/xhr-streaming.ts';
import { multipart, multipartLines } from '../../transports/multipart.ts';
import { streamedLines } from '../../transports/streamed.ts';
import { chooseBodyReader as legacyChoice } from '../../src/legacy/body-reader.ts';
import { CometClientCore, CometError } from '../../src/index.ts';
import type { Platform } from '../../src/platform.ts';
import { fetchPlatform, type SeenFetch } from '../support/body-readers.ts';
import { mockedPage, type Page } from '../support/dom.mjs';
import { fakePlatform, fakeTransport } from '../support/fake-platform.ts';
import { installFakeFetch } from '../support/fake-fetch.ts';
import { recorder } from '../support/recorder.ts';

const ndjson = { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };
const handlers = [http.get('http://app.test/comet/xhr', () => new HttpResponse(`${' '.repeat(2047)}\n{"type":"open"}\n`, { headers: ndjson }))];
const request = { url: 'http://app.test/comet/xhr?session=S1&since=0', withCredentials: false, headers: {} };

let page: Page | undefined;
afterEach(() => { page?.close(); });

/** jsdom's XMLHttpRequest, counting what it builds. */
function countedXhr(): { XMLHttpRequest: typeof XMLHttpRequest; readonly built: number } {
  page = mockedPage({ url: 'http://app.test/', handlers });
  const Base = page.window.XMLHttpRequest;
  const counter = {
    built: 0,
    XMLHttpRequest: class extends Base {
      constructor() {
        super();
        counter.built += 1;
      }
    },
  };
  return counter;
}

/** The two transports as the legacy bundle builds them. */
const legacy = {
  xhrStreaming: streamedLines('xhr-streaming', 'xhr', ndjsonLines, legacyChoice),
  multipart: streamedLines('multipart', 'multipart', multipartLines, legacyChoice),
};

/** Platforms with fetch and streams, with one of them missing, and with XHR alone. */
function platforms() {
  const streams = fetchPlatform([]);
  return {
    streams,
    noReadableStream: { ...streams, ReadableStream: undefined },
    noDecoder: { ...streams, TextDecoder: undefined },
    xhrOnly: { ...streams, fetch: undefined, XMLHttpRequest: countedXhr().XMLHttpRequest } as Platform,
    neither: { ...streams, fetch: undefined } as Platform,
  };
}

describe('the body reader of xhr-streaming and multipart, in the modern bundles', () => {
  it('is fetch where the engine streams a fetch body, even where XMLHttpRequest exists too', async () => {
    const seen: SeenFetch[] = [];
    const xhr = countedXhr();
    const platform: Platform = { ...fetchPlatform(handlers, seen), XMLHttpRequest: xhr.XMLHttpRequest };
    const record = recorder();
    xhrStreaming.open(platform, request, record.listener);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(record.values(), [{ type: 'open' }]);
    assert.equal(seen.length, 1);
    assert.equal(xhr.built, 0);
  });

  it('asks with GET, the request headers, and cookies across origins only with withCredentials', async () => {
    for (const withCredentials of [false, true]) {
      const seen: SeenFetch[] = [];
      const record = recorder();
      xhrStreaming.open(fetchPlatform(handlers, seen), { ...request, withCredentials, headers: { 'X-Token': 'abc' } }, record.listener);
      await record.ended;
      const [{ url, init = {} }] = seen as [SeenFetch];
      assert.equal(url, request.url);
      assert.equal(init.method ?? 'GET', 'GET');
      assert.deepEqual(init.headers, { 'X-Token': 'abc' });
      assert.equal(init.credentials, withCredentials ? 'include' : 'same-origin');
    }
  });

  it('makes both transports supported only where fetch streams its body: no ES2020 engine lacks it, and the XHR reader is not carried', () => {
    const { streams, noReadableStream, noDecoder, xhrOnly, neither } = platforms();
    for (const transport of [xhrStreaming, multipart]) {
      assert.equal(transport.isSupported(streams), true, transport.name);
      for (const [name, platform] of Object.entries({ noReadableStream, noDecoder, xhrOnly, neither })) {
        assert.equal(transport.isSupported(platform), false, `${transport.name}, ${name}`);
      }
    }
  });

  it('a client forced to xhr-streaming where fetch cannot stream reports unsupported; with long polling after it, it moves on', () => {
    for (const withFallback of [false, true]) {
      // The fake platform's fetch answers the handshake; it has no ReadableStream or TextDecoder.
      const platform = fakePlatform();
      installFakeFetch(platform);
      const poll = fakeTransport(platform, 'long-polling');
      const client = new CometClientCore('/comet', { transports: withFallback ? [xhrStreaming, poll] : [xhrStreaming], platform, reconnect: { maxAttempts: 1 } });
      const errors: CometError[] = [];
      const chosen: string[] = [];
      client.on('error', (error) => errors.push(error));
      client.on('transport', ({ name, reason }) => chosen.push(`${name} ${reason}`));
      platform.flush();
      platform.flush();
      if (withFallback) {
        assert.deepEqual(errors, []);
        assert.deepEqual(chosen, ['long-polling preferred']);
        assert.equal(poll.exchanges.length, 1);
      } else {
        assert.deepEqual(errors.map((error) => [error instanceof CometError, error.type]), [[true, 'unsupported']]);
        assert.deepEqual(chosen, []);
      }
      client.close();
    }
  });
});

describe('the body reader of xhr-streaming and multipart, in the legacy bundle', () => {
  it('is fetch where the engine streams a fetch body, even where XMLHttpRequest exists too', async () => {
    const seen: SeenFetch[] = [];
    const xhr = countedXhr();
    const platform: Platform = { ...fetchPlatform(handlers, seen), XMLHttpRequest: xhr.XMLHttpRequest };
    const record = recorder();
    legacy.xhrStreaming.open(platform, request, record.listener);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(record.values(), [{ type: 'open' }]);
    assert.equal(seen.length, 1);
    assert.equal(xhr.built, 0);
  });

  it('is XMLHttpRequest where fetch cannot stream its body (no ReadableStream, no TextDecoder, or no fetch: QtWebKit 5.212)', async () => {
    for (const missing of ['ReadableStream', 'TextDecoder', 'fetch'] as const) {
      const seen: SeenFetch[] = [];
      const xhr = countedXhr();
      const platform: Platform = { ...fetchPlatform(handlers, seen), [missing]: undefined, XMLHttpRequest: xhr.XMLHttpRequest };
      const record = recorder();
      legacy.xhrStreaming.open(platform, request, record.listener);
      assert.equal(await record.ended, undefined, missing);
      assert.deepEqual(record.values(), [{ type: 'open' }], missing);
      assert.equal(seen.length, 0, missing);
      assert.equal(xhr.built, 1, missing);
      page?.close();
    }
  });

  it('makes both transports supported wherever XMLHttpRequest exists or fetch streams its body (a worker has no XHR)', () => {
    const { streams, noDecoder, xhrOnly, neither } = platforms();
    for (const transport of [legacy.xhrStreaming, legacy.multipart]) {
      assert.equal(transport.isSupported(xhrOnly), true);
      assert.equal(transport.isSupported(streams), true);
      assert.equal(transport.isSupported(noDecoder), false);
      assert.equal(transport.isSupported(neither), false);
    }
  });
});
