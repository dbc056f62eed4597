import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { iframe } from '../../transports/iframe.ts';
import { browserPlatform, type ActiveXObjectConstructor, type Platform } from '../../src/platform.ts';
import type { TransportRequest } from '../../transports/contract.ts';
import { scriptedPage, serve, type LocalServer, type Page, type PageWindow } from '../support/dom.mjs';
import { recorder, settle, until } from '../support/recorder.ts';

// jsdom runs a frame's scripts only once its document is complete (docs/ENGINES.md), so these tests
// check what the frame delivers and how it ends; progressive delivery is for the browser suites.
const batches = [[{ type: 'open', seq: 0, heartbeatMs: 15000 }], [{ type: 'msg', seq: 1, channel: 'news', data: 'ü' }, { type: 'hb' }]];
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** The forever-frame document of PROTOCOL.md §5.3, same-origin flavour. */
const frameDocument = (callback: string, frames: readonly unknown[][]) =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><script>var d=function(f){parent.${callback}(f)};</script></head>` +
  `<body><!-- ${' '.repeat(2048)} -->` + frames.map((batch) => `<script>d(${JSON.stringify(batch)})</script>`).join('') + '</body></html>';

let server: LocalServer;
const pages: Page[] = [];
afterEach(() => { for (const page of pages.splice(0)) page.close(); });

before(async () => {
  server = await serve((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const callback = url.searchParams.get('callback') ?? '';
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    if (url.pathname === '/comet/iframe') response.end(frameDocument(callback, batches));
    else if (url.pathname === '/proxy-page') response.end('<html><body>Please sign in</body></html>');
    else response.write('<!DOCTYPE html><html><body>'); // held open, as a forever frame is
  });
});
after(() => server.close());

function page(url: string): { window: PageWindow; platform: Platform } {
  const opened = scriptedPage({ url });
  pages.push(opened);
  return { window: opened.window, platform: browserPlatform(opened.window) };
}
const request = (url: string): TransportRequest => ({ url, withCredentials: false, headers: {} });
const globalsOf = (window: object) => Object.keys(window).filter((key) => key.startsWith('cometkit'));

describe('iframe transport, same origin', () => {
  it('delivers each batch the frame passes to its global, and ends when the document ends', async () => {
    const { window, platform } = page(`${server.origin}/app`);
    const record = recorder();
    iframe.open(platform, request('/comet/iframe?session=S1&since=0'), record.listener);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(plain(record.batches), batches);
    const asked = server.requests.at(-1)!;
    assert.equal(asked.searchParams.get('session'), 'S1');
    assert.match(asked.searchParams.get('callback') ?? '', /^[A-Za-z_$][\w$]{0,63}$/);
    assert.equal(asked.searchParams.has('origin'), false, 'no origin parameter on the same origin');
    assert.equal(window.document.querySelectorAll('iframe').length, 0, 'the frame is removed');
    assert.deepEqual(globalsOf(window), [], 'the global is removed');
  });

  it('hides the frame while it loads, and removes it and its global when closed', async () => {
    const { window, platform } = page(`${server.origin}/app`);
    const record = recorder();
    const exchange = iframe.open(platform, request(`${server.origin}/held?session=S1&since=0`), record.listener);
    const frame = window.document.querySelector('iframe');
    assert.equal(frame?.style.display, 'none');
    assert.equal(globalsOf(window).length, 1);
    exchange.close();
    assert.equal(window.document.querySelectorAll('iframe').length, 0);
    assert.deepEqual(globalsOf(window), []);
    await settle();
    assert.equal(record.endCount, 0);
  });

  it('fails as malformed when the document ends without delivering anything (a proxy\'s page)', async () => {
    const { platform } = page(`${server.origin}/app`);
    const record = recorder();
    iframe.open(platform, request('/proxy-page?session=S1&since=0'), record.listener);
    assert.equal((await record.ended)?.type, 'malformed');
  });
});

describe('iframe transport, cross origin (postMessage)', () => {
  function openCrossOrigin() {
    const { window, platform } = page('http://app.test/'); // the page; the endpoint is the loopback server
    const record = recorder();
    const exchange = iframe.open(platform, request(`${server.origin}/held?session=S1&since=0`), record.listener);
    const frame = window.document.querySelector('iframe')!;
    const name = new URL(frame.src).searchParams.get('callback')!;
    const post = (data: unknown, origin = server.origin, source: Window | null = frame.contentWindow) => {
      window.dispatchEvent(new window.MessageEvent('message', { data, origin, source }));
    };
    return { window, record, exchange, frame, name, post };
  }

  it('asks the server to post to the page\'s origin and installs no global', async () => {
    const { window, frame } = openCrossOrigin();
    assert.equal(new URL(frame.src).searchParams.get('origin'), 'http://app.test');
    await until(() => server.requests.at(-1)?.pathname === '/held');
    assert.equal(server.requests.at(-1)?.searchParams.get('origin'), 'http://app.test');
    assert.deepEqual(globalsOf(window), []);
  });

  it('accepts only messages from its own frame, from the endpoint\'s origin, under its own name', () => {
    const { window, record, name, post } = openCrossOrigin();
    const otherFrame = window.document.createElement('iframe');
    window.document.body.appendChild(otherFrame);

    post({ cometkit: name, frames: [{ seq: 'wrong origin' }] }, 'http://evil.test');
    post({ cometkit: name, frames: [{ seq: 'wrong source' }] }, server.origin, otherFrame.contentWindow);
    post({ cometkit: name, frames: [{ seq: 'no source' }] }, server.origin, null);
    post({ cometkit: 'cometkit0_other', frames: [{ seq: 'wrong name' }] });
    post('a string from a library sharing the frame');
    post({ cometkit: name, frames: [{ seq: 1 }] });

    assert.deepEqual(plain(record.batches), [[{ seq: 1 }]]);
  });

  it('fails as malformed when its frame posts something other than an array', async () => {
    const { record, name, post } = openCrossOrigin();
    post({ cometkit: name, frames: { seq: 1 } });
    assert.equal((await record.ended)?.type, 'malformed');
  });

  it('stops listening and removes the frame when closed', async () => {
    const { window, record, exchange, post, name } = openCrossOrigin();
    exchange.close();
    post({ cometkit: name, frames: [{ seq: 1 }] });
    await settle();
    assert.deepEqual(record.batches, []);
    assert.equal(record.endCount, 0);
    assert.equal(window.document.querySelectorAll('iframe').length, 0);
  });
});

describe('iframe transport in an htmlfile document (old IE, with a stand-in ActiveXObject)', () => {
  /** Stands in for IE's ActiveXObject: 'htmlfile' makes a separate, empty HTML document. */
  function standInActiveX(made: { progIds: string[]; files: PageWindow[] }, refuse = false): ActiveXObjectConstructor {
    const StandInActiveXObject = function (progId: string): unknown {
      made.progIds.push(progId);
      if (refuse || progId !== 'htmlfile') throw new Error('Automation server can\'t create object');
      const file = scriptedPage({ url: 'about:blank' });
      pages.push(file);
      made.files.push(file.window);
      // `new` on a function that returns an object yields that object.
      return Object.assign(file.window.document, { parentWindow: file.window });
    };
    return StandInActiveXObject as unknown as ActiveXObjectConstructor;
  }

  /** The page's platform (its global scope) with a stand-in ActiveXObject. */
  const withActiveX = (window: PageWindow, ActiveXObject: ActiveXObjectConstructor): Platform =>
    ({ ...browserPlatform(window), document: window.document, window, Math, ActiveXObject });

  it('hosts the frame in the htmlfile document, not the page, and takes its batches there', () => {
    const made = { progIds: [] as string[], files: [] as PageWindow[] };
    const { window } = page(`${server.origin}/app`);
    const record = recorder();
    const exchange = iframe.open(withActiveX(window, standInActiveX(made)), request(`${server.origin}/held?session=S1&since=0`), record.listener);
    assert.deepEqual(made.progIds, ['htmlfile']);
    const file = made.files[0]!;
    assert.equal(window.document.querySelectorAll('iframe').length, 0, 'nothing in the page shows a busy cursor');
    const frame = file.document.querySelector('iframe');
    assert.ok(frame, 'the frame lives in the htmlfile document');
    // The frame's `parent` is the htmlfile's window: the delivery global lives there.
    assert.deepEqual(globalsOf(window), []);
    const [name] = globalsOf(file);
    assert.ok(name);
    // An htmlfile document has no base URL, so the frame's address is absolute.
    assert.equal(new URL(frame.src).origin, server.origin);

    (file as unknown as Record<string, (frames: unknown) => void>)[name]!([{ seq: 1 }]);
    assert.deepEqual(record.batches, [[{ seq: 1 }]]);

    exchange.close();
    assert.equal(file.document.querySelectorAll('iframe').length, 0);
    assert.deepEqual(globalsOf(file), []);
  });

  it('delivers what the frame\'s document passes to its parent, the htmlfile window', async () => {
    const made = { progIds: [] as string[], files: [] as PageWindow[] };
    const { window } = page(`${server.origin}/app`);
    const record = recorder();
    iframe.open(withActiveX(window, standInActiveX(made)), request('/comet/iframe?session=S1&since=0'), record.listener);
    assert.equal(await record.ended, undefined);
    assert.deepEqual(plain(record.batches), batches);
  });

  it('falls back to the page\'s own document where ActiveX refuses to make an htmlfile', () => {
    const made = { progIds: [] as string[], files: [] as PageWindow[] };
    const { window } = page(`${server.origin}/app`);
    const exchange = iframe.open(withActiveX(window, standInActiveX(made, true)), request(`${server.origin}/held?session=S1&since=0`), recorder().listener);
    assert.deepEqual(made.progIds, ['htmlfile']);
    assert.equal(window.document.querySelectorAll('iframe').length, 1);
    exchange.close();
  });
});
