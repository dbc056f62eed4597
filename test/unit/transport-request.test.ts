import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { fetchJson, type FetchRequest } from '../../transports/request.ts';
import { scriptJson } from '../../transports/script.ts';
import type { OneShotDone, TransportFailure } from '../../transports/contract.ts';
import { browserPlatform, type Platform } from '../../src/platform.ts';
import { scriptedPage, serve, type LocalServer, type Page } from '../support/dom.mjs';
import { settle, until } from '../support/recorder.ts';

const handshake = { type: 'handshake', v: 1, session: 'Q2hhbmdlIHRoaXMgaWQgcGxlYXNl', seq: 0 };
const send: FetchRequest = {
  url: 'http://app.test/comet/send?session=S1',
  body: '{"messages":[{"id":1,"type":"subscribe","channel":"news"}]}',
  withCredentials: false,
  headers: { 'X-Token': 'abc' },
  timeoutMs: 5000,
};

let page: Page | undefined;
afterEach(() => { page?.close(); });

// msw answers Node's own fetch; what it does not handle fails like a network error.
const network = setupServer();
before(() => { network.listen({ onUnhandledRequest: 'error' }); });
afterEach(() => { network.resetHandlers(); });
after(() => { network.close(); });

/** The platform fetchJson runs on: this realm's timers and fetch (called at request time, so msw sees it). */
const platform: Platform = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>); },
  Date,
  Math,
  fetch: (input, init) => fetch(input, init),
};

interface Outcome {
  failure: TransportFailure | undefined;
  value: unknown;
}

/** Resolves with what `done` receives. */
function result(start: (done: OneShotDone) => void): Promise<Outcome> {
  return new Promise((resolve) => { start((failure, value) => { resolve({ failure, value }); }); });
}

/** The same value made of this realm's objects (values from a page's script belong to its realm). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function failureOf(outcome: Outcome) {
  assert.ok(outcome.failure, 'expected a failure');
  return outcome.failure;
}

/** A platform whose timers fire only when the test says so. */
function manualTimers(window: object) {
  const pending = new Map<number, () => void>();
  let next = 0;
  return {
    platform: {
      ...browserPlatform(window),
      document: (window as Window).document,
      window: window as Window,
      Math,
      Date,
      setTimeout: (callback: () => void) => { pending.set(++next, callback); return next; },
      clearTimeout: (handle: unknown) => { pending.delete(handle as number); },
    } satisfies Platform,
    pending,
    fireAll: () => { for (const [handle, callback] of pending) { pending.delete(handle); callback(); } },
  };
}

describe('fetchJson (one-shot fetch for the handshake, sends and long polling)', () => {
  it('posts the body as text/plain (a CORS simple request) with the headers, and returns the JSON answer', async () => {
    let seen: { method: string; body: string; type: string | null; token: string | null; credentials: string } | undefined;
    network.use(http.post('http://app.test/comet/send', async ({ request }) => {
      seen = { method: request.method, body: await request.text(), type: request.headers.get('content-type'), token: request.headers.get('x-token'), credentials: request.credentials };
      return HttpResponse.json({ type: 'ack', ack: 1, errors: [] });
    }));
    const outcome = await result((done) => fetchJson(platform, send, done));
    assert.deepEqual(outcome, { failure: undefined, value: { type: 'ack', ack: 1, errors: [] } });
    assert.deepEqual(seen, { method: 'POST', body: send.body, type: 'text/plain;charset=UTF-8', token: 'abc', credentials: 'same-origin' });
  });

  it('gets without a body, and sends cookies cross-origin (credentials include) when withCredentials', async () => {
    let seen: { method: string; credentials: string } | undefined;
    network.use(http.get('http://app.test/comet/handshake', ({ request }) => {
      seen = { method: request.method, credentials: request.credentials };
      return HttpResponse.json(handshake);
    }));
    const outcome = await result((done) => fetchJson(platform, { url: 'http://app.test/comet/handshake?v=1', withCredentials: true, headers: {} }, done));
    assert.deepEqual(outcome, { failure: undefined, value: handshake });
    assert.deepEqual(seen, { method: 'GET', credentials: 'include' });
  });

  it('returns a refusal as http-status with the protocol\'s code as detail and its retryMs', async () => {
    const refusal = { type: 'error', code: 'too-many-sessions', message: 'busy', retryMs: 2000 };
    network.use(http.get('http://app.test/comet/handshake', () => HttpResponse.json(refusal, { status: 503 })));
    const outcome = await result((done) => fetchJson(platform, { ...send, url: 'http://app.test/comet/handshake?v=1', body: undefined }, done));
    assert.deepEqual(outcome, { failure: { type: 'http-status', status: 503, detail: 'too-many-sessions', retryMs: 2000 }, value: undefined });
  });

  it('returns an error status without a JSON body as http-status without code or retryMs', async () => {
    network.use(http.post('http://app.test/comet/send', () => HttpResponse.text('Bad Gateway', { status: 502 })));
    const outcome = await result((done) => fetchJson(platform, send, done));
    const failure = failureOf(outcome);
    assert.equal(failure.type, 'http-status');
    assert.equal(failure.status, 502);
    assert.equal(failure.detail, 'unexpected status');
    assert.equal(failure.retryMs, undefined);
    assert.equal(outcome.value, undefined);
  });

  it('fails with content-type when a 200 is not JSON (a captive portal\'s page)', async () => {
    network.use(http.post('http://app.test/comet/send', () => HttpResponse.html('<html>sign in</html>')));
    const outcome = await result((done) => fetchJson(platform, send, done));
    assert.equal(failureOf(outcome).type, 'content-type');
  });

  it('fails as malformed when a 200 says JSON but is not', async () => {
    network.use(http.post('http://app.test/comet/send', () =>
      new HttpResponse('{"type":"ack",', { headers: { 'Content-Type': 'application/json; charset=utf-8' } })));
    const outcome = await result((done) => fetchJson(platform, send, done));
    assert.equal(failureOf(outcome).type, 'malformed');
  });

  it('fails as network when the connection fails', async () => {
    network.use(http.post('http://app.test/comet/send', () => HttpResponse.error()));
    const outcome = await result((done) => fetchJson(platform, send, done));
    assert.equal(failureOf(outcome).type, 'network');
  });

  it('gives up as network after timeoutMs (aborting the fetch), and reports nothing else', async () => {
    let aborted = false;
    network.use(http.post('http://app.test/comet/send', ({ request }) => new Promise<Response>(() => {
      request.signal.addEventListener('abort', () => { aborted = true; });
    })));
    const outcomes: Outcome[] = [];
    fetchJson(platform, { ...send, timeoutMs: 50 }, (failure, value) => outcomes.push({ failure, value }));
    await until(() => outcomes.length > 0);
    await settle(100);
    assert.equal(outcomes.length, 1);
    assert.equal(failureOf(outcomes[0]!).type, 'network');
    assert.ok(aborted, 'the request was aborted');
  });

  it('reports nothing once aborted, and aborts the request', async () => {
    let aborted = false;
    network.use(http.post('http://app.test/comet/send', async ({ request }) => {
      request.signal.addEventListener('abort', () => { aborted = true; });
      await settle(50);
      return HttpResponse.json({ type: 'ack', ack: 1, errors: [] });
    }));
    const outcomes: Outcome[] = [];
    const abort = fetchJson(platform, send, (failure, value) => outcomes.push({ failure, value }));
    await settle(10);
    abort();
    await settle(100);
    assert.deepEqual(outcomes, []);
    assert.ok(aborted, 'the request was aborted');
  });

  it('reports nothing when aborted before it started', async () => {
    network.use(http.post('http://app.test/comet/send', () => HttpResponse.json({ type: 'ack', ack: 1, errors: [] })));
    const outcomes: Outcome[] = [];
    fetchJson(platform, send, (failure, value) => outcomes.push({ failure, value }))();
    await settle();
    assert.deepEqual(outcomes, []);
  });
});

describe('scriptJson (one-shot JSONP for pages that reach the endpoint without CORS)', () => {
  let server: LocalServer;
  before(async () => {
    server = await serve((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const callback = url.searchParams.get('callback') ?? '';
      const script = (body: string) => {
        response.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8' });
        response.end(body);
      };
      if (url.pathname === '/comet/handshake') script(`/**/${callback}(${JSON.stringify(handshake)});`);
      else if (url.pathname === '/silent') script('/**/var nothing = 1;');
      else if (url.pathname === '/late') setTimeout(() => { script(`/**/${callback}([1]);`); }, 150);
      else {
        response.writeHead(404, { 'Content-Type': 'application/json' });
        response.end('{"type":"error","code":"not-found"}');
      }
    });
  });
  after(() => server.close());

  // The page is on another origin than the server: scripts need no CORS.
  function platformForPage() {
    const scripted = scriptedPage({ url: 'http://app.test/' });
    page = scripted;
    return { platform: browserPlatform(scripted.window), window: scripted.window, errors: scripted.errors };
  }
  const globalsOf = (window: object) => Object.keys(window).filter((key) => key.startsWith('cometkit'));

  it('adds a callback name of the protocol\'s form and returns the value the script passes to it', async () => {
    const { platform, window } = platformForPage();
    const outcome = await result((done) => scriptJson(platform, { url: `${server.origin}/comet/handshake?v=1`, timeoutMs: 5000 }, done));
    assert.equal(outcome.failure, undefined);
    assert.deepEqual(plain(outcome.value), handshake);
    const asked = server.requests.at(-1)!;
    assert.equal(asked.searchParams.get('v'), '1');
    assert.match(asked.searchParams.get('callback') ?? '', /^[A-Za-z_$][\w$]{0,63}$/);
    assert.equal(window.document.querySelectorAll('script').length, 0, 'the script element is removed');
    assert.deepEqual(globalsOf(window), [], 'the callback global is removed');
  });

  it('gives every exchange its own callback name', async () => {
    const { platform } = platformForPage();
    await Promise.all([1, 2, 3].map(() => result((done) => scriptJson(platform, { url: `${server.origin}/comet/handshake?v=1`, timeoutMs: 5000 }, done))));
    const names = server.requests.slice(-3).map((url) => url.searchParams.get('callback'));
    assert.equal(new Set(names).size, 3);
  });

  it('fails as network when the script does not load (an error status; the status cannot be seen)', async () => {
    const { platform, window } = platformForPage();
    const outcome = await result((done) => scriptJson(platform, { url: `${server.origin}/missing`, timeoutMs: 5000 }, done));
    assert.equal(failureOf(outcome).type, 'network');
    assert.deepEqual(globalsOf(window), []);
  });

  it('fails as malformed when the script loads without calling back', async () => {
    const { platform, window } = platformForPage();
    const outcome = await result((done) => scriptJson(platform, { url: `${server.origin}/silent`, timeoutMs: 5000 }, done));
    assert.equal(failureOf(outcome).type, 'malformed');
    assert.deepEqual(globalsOf(window), []);
  });

  it('gives up as network after timeoutMs, and a script arriving later throws nothing and cleans up', async () => {
    const { window, errors } = platformForPage();
    const timers = manualTimers(window);
    const outcomes: Outcome[] = [];
    scriptJson(timers.platform, { url: `${server.origin}/late`, timeoutMs: 100 }, (failure, value) => outcomes.push({ failure, value }));
    await until(() => server.requests.at(-1)?.pathname === '/late');
    timers.fireAll();
    assert.equal(outcomes.length, 1);
    assert.equal(failureOf(outcomes[0]!).type, 'network');
    assert.equal(window.document.querySelectorAll('script').length, 0);
    await settle(300);
    assert.equal(outcomes.length, 1);
    assert.deepEqual(errors, []);
    assert.deepEqual(globalsOf(window), [], 'the late script removed the stand-in callback');
  });
});

describe('scriptJson aborted', () => {
  it('reports nothing once aborted, and a script arriving later throws nothing and cleans up', async () => {
    const server = await serve((request, response) => {
      const callback = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('callback') ?? '';
      setTimeout(() => {
        response.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8' });
        response.end(`/**/${callback}([1]);`);
      }, 100);
    });
    try {
      const scripted = scriptedPage({ url: 'http://app.test/' });
      page = scripted;
      const outcomes: Outcome[] = [];
      const abort = scriptJson(browserPlatform(scripted.window), { url: `${server.origin}/late` }, (failure, value) => outcomes.push({ failure, value }));
      await until(() => server.requests.length > 0);
      abort();
      await settle(300);
      assert.deepEqual(outcomes, []);
      assert.deepEqual(scripted.errors, []);
      assert.deepEqual(Object.keys(scripted.window).filter((key) => key.startsWith('cometkit')), []);
    } finally {
      await server.close();
    }
  });
});
