import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonp } from '../../transports/jsonp.ts';
import { browserPlatform } from '../../src/platform.ts';
import type { TransportRequest } from '../../transports/contract.ts';
import { scriptedPage, serve, type LocalServer, type Page } from '../support/dom.mjs';
import { recorder, settle, until } from '../support/recorder.ts';

const frames = [{ type: 'msg', seq: 5, channel: 'news', data: '</script><b>' }, { type: 'msg', seq: 6, channel: 'news', data: 'ü' }];
// PROTOCOL.md §3.5: JSON inside script has <, > and & escaped.
const forScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

let server: LocalServer;
let page: (Page & { readonly errors: readonly Error[] }) | undefined;

before(async () => {
  server = await serve((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const callback = url.searchParams.get('callback') ?? '';
    const answer = (body: unknown) => {
      response.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      response.end(`/**/${callback}(${forScript(body)});`);
    };
    const since = url.searchParams.get('since');
    if (url.pathname !== '/comet/jsonp') {
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end('{"type":"error","code":"not-found"}');
    } else if (since === '4') answer(frames);
    else if (since === '6') setTimeout(() => { answer([]); }, 100); // held, then nothing to say
    else if (since === '7') answer({ type: 'close' });
    else setTimeout(() => { answer(frames); }, 150);
  });
});
after(() => server.close());
afterEach(() => { page?.close(); });

function open(url: string) {
  page = scriptedPage({ url: 'http://app.test/' }); // another origin than the server, without CORS
  const record = recorder();
  const exchange = jsonp.open(browserPlatform(page.window), { url, withCredentials: false, headers: {} } satisfies TransportRequest, record.listener);
  return { record, exchange, window: page.window, errors: page.errors };
}
const globalsOf = (window: object) => Object.keys(window).filter((key) => key.startsWith('cometkit'));

describe('jsonp transport', () => {
  it('delivers the array the script passes back in one batch, then ends and cleans up', async () => {
    const { record, window } = open(`${server.origin}/comet/jsonp?session=S1&since=4`);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(plain(record.batches), [frames]);
    assert.match(server.requests.at(-1)?.searchParams.get('callback') ?? '', /^[A-Za-z_$][\w$]{0,63}$/);
    assert.equal(server.requests.at(-1)?.searchParams.get('session'), 'S1');
    assert.equal(window.document.querySelectorAll('script').length, 0);
    assert.deepEqual(globalsOf(window), []);
  });

  it('ends without delivering anything when the held poll is answered with []', async () => {
    const { record } = open(`${server.origin}/comet/jsonp?session=S1&since=6`);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(record.batches, []);
  });

  it('fails as malformed when the script passes back something other than an array', async () => {
    const { record } = open(`${server.origin}/comet/jsonp?session=S1&since=7`);
    assert.equal((await record.ended)?.type, 'malformed');
  });

  it('fails as network when the script cannot be loaded', async () => {
    const { record, window } = open(`${server.origin}/elsewhere?session=S1&since=4`);
    assert.equal((await record.ended)?.type, 'network');
    assert.deepEqual(globalsOf(window), []);
  });

  it('reports nothing once closed while the poll is held, and its late script throws nothing', async () => {
    const { record, exchange, window, errors } = open(`${server.origin}/comet/jsonp?session=S1&since=5`);
    await until(() => server.requests.at(-1)?.searchParams.get('since') === '5');
    exchange.close();
    assert.equal(window.document.querySelectorAll('script').length, 0);
    await settle(300);
    assert.equal(record.endCount, 0);
    assert.deepEqual(record.batches, []);
    assert.deepEqual(errors, []);
    assert.deepEqual(globalsOf(window), []);
  });

  it('is supported where there is a document', () => {
    page = scriptedPage({ url: 'http://app.test/' });
    const platform = browserPlatform(page.window);
    assert.equal(jsonp.isSupported(platform), true);
    assert.equal(jsonp.isSupported({ ...platform, document: undefined }), false);
  });
});
