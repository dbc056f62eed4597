// Which body reader xhr-streaming and multipart use (transports/streamed.ts): fetch with a
// ReadableStream reader wherever the engine streams a fetch body, XHR at readyState 3 where it
// does not, found by feature detection. What each reader does is tested in
// transport-xhr-streaming.test.ts and transport-multipart.test.ts, once per reader.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { xhrStreaming } from '../../transports/xhr-streaming.ts';
import { multipart } from '../../transports/multipart.ts';
import type { Platform } from '../../src/platform.ts';
import { fetchPlatform, type SeenFetch } from '../support/body-readers.ts';
import { mockedPage, type Page } from '../support/dom.mjs';
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

describe('the body reader of xhr-streaming and multipart', () => {
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

  it('is XMLHttpRequest where fetch cannot stream its body (no ReadableStream or no TextDecoder: the legacy bundle\'s fetch over XHR)', async () => {
    for (const missing of ['ReadableStream', 'TextDecoder'] as const) {
      const seen: SeenFetch[] = [];
      const xhr = countedXhr();
      const platform: Platform = { ...fetchPlatform(handlers, seen), [missing]: undefined, XMLHttpRequest: xhr.XMLHttpRequest };
      const record = recorder();
      xhrStreaming.open(platform, request, record.listener);
      assert.equal(await record.ended, undefined, missing);
      assert.deepEqual(record.values(), [{ type: 'open' }], missing);
      assert.equal(seen.length, 0, missing);
      assert.equal(xhr.built, 1, missing);
      page?.close();
    }
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

  it('makes both transports supported wherever XMLHttpRequest exists or fetch streams its body (a worker has no XHR)', () => {
    const streams = fetchPlatform([]);
    const noDecoder = { ...streams, TextDecoder: undefined };
    const xhrOnly: Platform = { ...streams, fetch: undefined, XMLHttpRequest: countedXhr().XMLHttpRequest };
    for (const transport of [xhrStreaming, multipart]) {
      assert.equal(transport.isSupported(xhrOnly), true);
      assert.equal(transport.isSupported(streams), true);
      assert.equal(transport.isSupported(noDecoder), false);
      assert.equal(transport.isSupported({ ...streams, fetch: undefined }), false);
    }
  });
});
