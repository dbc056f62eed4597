import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { delay, http, HttpResponse, type RequestHandler } from 'msw';
import { setupServer } from 'msw/node';
import { longPolling } from '../../transports/long-polling.ts';
import type { Platform } from '../../src/platform.ts';
import type { TransportRequest } from '../../transports/contract.ts';
import { recorder, settle } from '../support/recorder.ts';

const request: TransportRequest = { url: 'http://app.test/comet/poll?session=S1&since=4', withCredentials: false, headers: {} };

// msw answers Node's own fetch; what it does not handle fails like a network error.
const network = setupServer();
before(() => { network.listen({ onUnhandledRequest: 'error' }); });
afterEach(() => { network.resetHandlers(); });
after(() => { network.close(); });

/** A platform with this realm's timers and fetch (called at request time, so msw sees it), answered by `handlers`. */
function platformFor(handlers: RequestHandler[]): Platform {
  network.resetHandlers(...handlers);
  return {
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>); },
    Date,
    Math,
    fetch: (input, init) => fetch(input, init),
  };
}

const answering = (answer: () => Response | Promise<Response>) => platformFor([http.get('http://app.test/comet/poll', answer)]);

describe('long-polling transport', () => {
  it('delivers the answer\'s array in one batch, then ends', async () => {
    const frames = [{ type: 'msg', seq: 5, channel: 'news', data: 'hi' }, { type: 'msg', seq: 6, channel: 'news', data: 'ho' }];
    let asked: string | undefined;
    const platform = platformFor([http.get('http://app.test/comet/poll', ({ request: sent }) => {
      asked = sent.url;
      return HttpResponse.json(frames);
    })]);
    const record = recorder();
    longPolling.open(platform, request, record.listener);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(record.batches, [frames]);
    assert.equal(asked, request.url);
    assert.equal(record.endCount, 1);
  });

  it('ends without delivering anything when the server held the poll and answered []', async () => {
    const platform = answering(() => HttpResponse.json([]));
    const record = recorder();
    longPolling.open(platform, request, record.listener);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(record.batches, []);
  });

  it('fails with content-type when a proxy answers 200 with an HTML page', async () => {
    const platform = answering(() => HttpResponse.html('<html>[]</html>'));
    const record = recorder();
    longPolling.open(platform, request, record.listener);
    const failure = await record.ended;
    assert.equal(failure?.type, 'content-type');
    assert.equal(failure.status, 200);
  });

  it('fails with http-status, the status and the protocol\'s error code when refused', async () => {
    const platform = answering(() => HttpResponse.json({ type: 'error', code: 'bad-since', message: 'since' }, { status: 400 }));
    const record = recorder();
    longPolling.open(platform, request, record.listener);
    const failure = await record.ended;
    assert.equal(failure?.type, 'http-status');
    assert.equal(failure.status, 400);
    assert.equal(failure.detail, 'bad-since');
  });

  it('fails as malformed when the answer is JSON but not an array, or not JSON at all', async () => {
    for (const body of ['{"type":"msg"}', '[{"type":"msg"']) {
      const platform = answering(() => new HttpResponse(body, { headers: { 'Content-Type': 'application/json; charset=utf-8' } }));
      const record = recorder();
      longPolling.open(platform, request, record.listener);
      assert.equal((await record.ended)?.type, 'malformed', body);
      assert.deepEqual(record.batches, [], body);
    }
  });

  it('fails as network when the connection fails', async () => {
    const platform = answering(() => HttpResponse.error());
    const record = recorder();
    longPolling.open(platform, request, record.listener);
    assert.equal((await record.ended)?.type, 'network');
  });

  it('reports nothing once closed while the poll is held', async () => {
    const platform = answering(async () => {
      await delay(100);
      return HttpResponse.json([{ type: 'msg', seq: 5 }]);
    });
    const record = recorder();
    const exchange = longPolling.open(platform, request, record.listener);
    await settle(20);
    exchange.close();
    await settle(200);
    assert.equal(record.endCount, 0);
    assert.deepEqual(record.batches, []);
  });

  it('does not end the exchange when the listener closed it on the batch it received', async () => {
    const platform = answering(() => HttpResponse.json([{ type: 'close', code: 'replaced' }]));
    const record = recorder();
    const exchange = longPolling.open(platform, request, {
      onValues(values) { record.listener.onValues(values); exchange.close(); },
      onEnd: (failure) => { record.listener.onEnd(failure); },
    });
    await settle(100);
    assert.equal(record.batches.length, 1);
    assert.equal(record.endCount, 0);
  });

  it('is supported wherever fetch exists', () => {
    const platform = platformFor([]);
    assert.equal(longPolling.isSupported(platform), true);
    assert.equal(longPolling.isSupported({ ...platform, fetch: undefined }), false);
  });
});
