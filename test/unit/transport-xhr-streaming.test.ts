// Every behaviour twice: read by XHR at readyState 3 and by fetch with a ReadableStream reader
// (test/support/body-readers.ts: the XHR reader is the legacy bundle's, composed in explicitly).
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse, type RequestHandler } from 'msw';
import type { Platform } from '../../src/platform.ts';
import type { TransportRequest } from '../../transports/contract.ts';
import { bodyReaderCases } from '../support/body-readers.ts';
import { recorder, settle, until } from '../support/recorder.ts';
import { pushedBody } from '../support/streams.ts';

const streamUrl = 'http://app.test/comet/xhr?session=S1&since=0';
const ndjson = { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };
const prelude = ' '.repeat(2047) + '\n';
const request: TransportRequest = { url: streamUrl, withCredentials: false, headers: {} };
const line = (value: unknown) => JSON.stringify(value) + '\n';

for (const reader of bodyReaderCases()) {
  describe(`xhr-streaming transport, read by ${reader.name}`, () => {
    afterEach(reader.close);
    const platformFor = (handlers: RequestHandler[]): Platform => reader.platformFor(handlers);

    it('delivers each frame as soon as the chunk that completes its line arrives', async () => {
      const body = pushedBody();
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => new HttpResponse(body.stream, { headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);

      body.push(prelude + line({ type: 'open', seq: 0 }) + '{"type":"msg","seq":1,');
      await until(() => record.values().length === 1);
      assert.deepEqual(record.values(), [{ type: 'open', seq: 0 }]);

      body.push('"data":"😀"}\n');
      await until(() => record.values().length === 2);
      assert.deepEqual(record.values()[1], { type: 'msg', seq: 1, data: '😀' });

      body.push(line({ type: 'hb' }) + line({ type: 'close', code: 'recycle' }));
      body.end();
      assert.equal(await record.ended, undefined);
      assert.deepEqual(record.values().slice(2), [{ type: 'hb' }, { type: 'close', code: 'recycle' }]);
      assert.equal(record.endCount, 1);
    });

    it('delivers a character whose UTF-8 bytes arrive in two chunks whole, wherever they are split', async () => {
      const bytes = new TextEncoder().encode(line({ seq: 1, data: 'é日😀' }));
      const start = bytes.indexOf(0xc3); // the first byte of é
      for (let cut = start + 1; cut < start + 2 + 3 + 4; cut += 1) {
        const body = pushedBody();
        const platform = platformFor([http.get('http://app.test/comet/xhr', () => new HttpResponse(body.stream, { headers: ndjson }))]);
        const record = recorder();
        reader.xhrStreaming.open(platform, request, record.listener);
        body.push(prelude);
        body.pushBytes(bytes.subarray(0, cut));
        await settle(20);
        body.pushBytes(bytes.subarray(cut));
        body.end();
        assert.equal(await record.ended, undefined, `cut at byte ${cut}`);
        assert.deepEqual(record.values(), [{ seq: 1, data: 'é日😀' }], `cut at byte ${cut}`);
        reader.close();
      }
    });

    it('delivers the whole lines, then fails as network when the connection is cut mid-line', async () => {
      const body = pushedBody();
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => new HttpResponse(body.stream, { headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      body.push(prelude + line({ seq: 1 }) + '{"seq":');
      await until(() => record.values().length === 1);
      body.cut();
      assert.equal((await record.ended)?.type, 'network');
      assert.deepEqual(record.values(), [{ seq: 1 }]);
      assert.equal(record.endCount, 1);
    });

    it('skips the 2048-byte prelude and lines that are empty or only white space', async () => {
      const platform = platformFor([http.get('http://app.test/comet/xhr', () =>
        new HttpResponse(prelude + '\n  \t \n\r\n' + line({ type: 'hb' }) + ' \n', { headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      assert.equal(await record.ended, undefined);
      assert.deepEqual(record.values(), [{ type: 'hb' }]);
    });

    it('sends the request headers and asks for the stream with GET', async () => {
      let seen: Request | undefined;
      const platform = platformFor([http.get('http://app.test/comet/xhr', ({ request: sent }) => {
        seen = sent;
        return new HttpResponse(prelude + line({ type: 'open' }), { headers: ndjson });
      })]);
      const record = recorder();
      reader.xhrStreaming.open(platform, { ...request, headers: { 'X-Token': 'abc' } }, record.listener);
      assert.equal(await record.ended, undefined);
      assert.ok(seen);
      assert.equal(seen.headers.get('x-token'), 'abc');
      assert.equal(seen.url, streamUrl);
    });

    it('fails with content-type when a proxy answers 200 with an HTML page', async () => {
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => HttpResponse.html('<html>{"type":"open"}\n</html>'))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      const failure = await record.ended;
      assert.equal(failure?.type, 'content-type');
      assert.equal(failure.status, 200);
      assert.deepEqual(record.batches, []);
    });

    it('fails with http-status and the status when the server answers 500', async () => {
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => new HttpResponse('oops', { status: 500, headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      const failure = await record.ended;
      assert.equal(failure?.type, 'http-status');
      assert.equal(failure.status, 500);
    });

    it('delivers the whole lines, then fails as malformed when the stream ends in a cut line', async () => {
      const platform = platformFor([http.get('http://app.test/comet/xhr', () =>
        new HttpResponse(prelude + line({ type: 'open' }) + '{"type":"msg","se', { headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      assert.equal((await record.ended)?.type, 'malformed');
      assert.deepEqual(record.values(), [{ type: 'open' }]);
    });

    it('delivers the frames before a line that is not JSON, then fails as malformed', async () => {
      const body = pushedBody();
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => new HttpResponse(body.stream, { headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      body.push(line({ seq: 1 }) + line({ seq: 2 }) + '<html>\n' + line({ seq: 3 }));
      assert.equal((await record.ended)?.type, 'malformed');
      assert.deepEqual(record.values(), [{ seq: 1 }, { seq: 2 }]);
      body.push(line({ seq: 4 }));
      await settle();
      assert.equal(record.endCount, 1);
      assert.equal(record.values().length, 2);
    });

    it('fails as network when the connection fails', async () => {
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => HttpResponse.error())]);
      const record = recorder();
      reader.xhrStreaming.open(platform, request, record.listener);
      assert.equal((await record.ended)?.type, 'network');
    });

    // CORS is the engine's: jsdom enforces it on its XHR; the browser suites hold it for fetch
    // (test/browser/transports.test.ts, cross origin).
    if (reader.cors) it('is refused by CORS across origins when the server does not allow the page', async () => {
      const platform = platformFor([http.get('http://push.test/comet/xhr', () => new HttpResponse(line({ type: 'open' }), { headers: ndjson }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, { ...request, url: 'http://push.test/comet/xhr?session=S1&since=0' }, record.listener);
      assert.equal((await record.ended)?.type, 'network');
      assert.deepEqual(record.batches, []);
    });

    it('streams across origins when the server allows the page', async () => {
      const platform = platformFor([http.get('http://push.test/comet/xhr', () => new HttpResponse(line({ type: 'open' }), {
        headers: { ...ndjson, 'Access-Control-Allow-Origin': 'http://app.test' },
      }))]);
      const record = recorder();
      reader.xhrStreaming.open(platform, { ...request, url: 'http://push.test/comet/xhr?session=S1&since=0' }, record.listener);
      assert.equal(await record.ended, undefined);
      assert.deepEqual(record.values(), [{ type: 'open' }]);
    });

    it('drops the connection when closed and reports nothing more', async () => {
      const body = pushedBody();
      const platform = platformFor([http.get('http://app.test/comet/xhr', () => new HttpResponse(body.stream, { headers: ndjson }))]);
      const record = recorder();
      const exchange = reader.xhrStreaming.open(platform, request, record.listener);
      body.push(line({ seq: 1 }));
      await until(() => record.values().length === 1);
      exchange.close();
      await until(() => body.cancelled);
      body.push(line({ seq: 2 }));
      body.end();
      await settle();
      assert.deepEqual(record.values(), [{ seq: 1 }]);
      assert.equal(record.endCount, 0);
    });

    it('reports nothing more when the listener closes the exchange on the values it receives', async () => {
      const platform = platformFor([http.get('http://app.test/comet/xhr', () =>
        new HttpResponse(line({ type: 'close' }) + line({ type: 'after' }), { headers: ndjson }))]);
      const record = recorder();
      const exchange = reader.xhrStreaming.open(platform, request, {
        onValues(values) { record.listener.onValues(values); exchange.close(); },
        onEnd: (failure) => { record.listener.onEnd(failure); },
      });
      await settle();
      assert.equal(record.endCount, 0);
      assert.equal(record.batches.length, 1);
    });
  });
}
