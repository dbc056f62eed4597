// PROTOCOL.md §10 in an old engine: QtWebKit 5.212 (AppleWebKit/602.1, 2016), run by Debian's
// wkhtmltoimage, sends Referer but no Sec-Fetch-* header. Its script transports must keep working
// with the user's credentials same-origin and from a listed origin, and a foreign page must still
// get no credentialed session. The bundles target ES2020, which this engine cannot run, so the
// page speaks the protocol itself in ES5: a JSONP handshake, a subscribe sent by script, a JSONP
// poll and a forever frame (`parent.f(...)` same-origin, `postMessage` to the listed origin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCometServer } from '../../server/index.ts';
import type { HandshakeInfo } from '../../server/index.ts';

const WKHTMLTOIMAGE = '/usr/bin/wkhtmltoimage';

interface Report {
  tag: string;
  handshake: boolean;
  ack?: { errors: unknown[] };
  poll?: { type: string; channel?: string }[];
  iframe?: { type: string; channel?: string }[];
}

interface Arrival { tag: string; cookie: boolean; secFetch: boolean; referer: string | undefined; info?: HandshakeInfo; user?: string }

/** The page: ES5 only. `E` is the endpoint, `TAG` names the run in the server's records. */
function page(endpoint: string, tag: string, pageOrigin: string | undefined): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><script>
var E = ${JSON.stringify(endpoint)}, TAG = ${JSON.stringify(tag)}, ORIGIN = ${JSON.stringify(pageOrigin ?? null)}, n = 0;
function load(url, cb) {
  var name = 'cb' + (n++), done = false;
  window[name] = function (v) { done = true; cb(v); };
  var s = document.createElement('script');
  s.src = url + '&callback=' + name;
  s.onerror = function () { if (!done) { done = true; cb(null); } };
  document.getElementsByTagName('head')[0].appendChild(s);
}
function finish(result) {
  var img = new Image();
  img.onload = img.onerror = function () { window.status = 'done'; };
  img.src = '/report?data=' + encodeURIComponent(JSON.stringify(result));
}
load(E + '/handshake?v=1&t=' + TAG, function (hs) {
  if (!hs || !hs.session) return finish({ tag: TAG, handshake: false });
  var subscribe = encodeURIComponent('[{"id":1,"type":"subscribe","channel":"private/alice"}]');
  load(E + '/send?session=' + hs.session + '&messages=' + subscribe, function (ack) {
    load(E + '/jsonp?session=' + hs.session + '&since=0', function (poll) {
      var got = [], ended = false;
      function end() { if (!ended) { ended = true; finish({ tag: TAG, handshake: true, ack: ack, poll: poll, iframe: got }); } }
      function take(frames) { for (var i = 0; i < frames.length; i++) { got.push(frames[i]); if (frames[i].type === 'msg') setTimeout(end, 50); } }
      window.f = take;
      window.addEventListener('message', function (event) { if (event.data && event.data.cometkit === 'f') take(event.data.frames); });
      var frame = document.createElement('iframe');
      frame.src = E + '/iframe?session=' + hs.session + '&since=0&callback=f' + (ORIGIN ? '&origin=' + encodeURIComponent(ORIGIN) : '');
      document.body.appendChild(frame);
      setTimeout(end, 4000);
    });
  });
});
</script></body></html>`;
}

function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => (server.address() as AddressInfo).port);
}

/**
 * Runs wkhtmltoimage on `url` with the user's cookie until the page sets window.status; resolves
 * with what it printed. It exits 1 when any subresource was refused (the foreign page's iframe is),
 * so the page's own report, not the exit code, says whether the run worked.
 */
async function render(url: string): Promise<string> {
  const child = spawn(WKHTMLTOIMAGE, ['--quiet', '--cookie', 'user', 'alice', '--window-status', 'done',
    // A refused iframe (403, the foreign page's case) is a result here, not a failure of the run.
    '--load-error-handling', 'ignore', '--load-media-error-handling', 'ignore', '--format', 'png', url, '/dev/null'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, QT_QPA_PLATFORM: 'offscreen', XDG_RUNTIME_DIR: tmpdir() },
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    return `wkhtmltoimage ${url} exited with ${code}: ${stderr}`;
  } finally {
    clearTimeout(timer);
  }
}

void test('QtWebKit 5.212 (Referer, no Sec-Fetch-*): credentialed jsonp and iframe same-origin and from a listed origin; none for a foreign page', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(WKHTMLTOIMAGE), 'wkhtmltoimage is missing: apt-get install wkhtmltopdf (.ci/run does)');
  const reports: Report[] = [];
  const arrivals: Arrival[] = [];
  const pages = new Map<string, string>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/report') {
      reports.push(JSON.parse(url.searchParams.get('data') ?? '{}') as Report);
      res.writeHead(204).end();
      return true;
    }
    const html = pages.get(`${req.headers.host ?? ''}${url.pathname}`);
    if (html === undefined) return false;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    return true;
  };
  const pageServer = () => http.createServer((req, res) => { if (!handler(req, res)) res.writeHead(404).end(); });
  const allowedServer = pageServer();
  const foreignServer = pageServer();
  const allowedPort = await listen(allowedServer);
  const foreignPort = await listen(foreignServer);
  const allowed = `http://127.0.0.1:${allowedPort}`;
  const byRequest = new WeakMap<http.IncomingMessage, Arrival>();
  const comet = createCometServer({
    allowedOrigins: [allowed],
    holdMs: 2000,
    authenticate(req, info) {
      const user = /(?:^|;\s*)user=(\w+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'anonymous';
      const arrival = byRequest.get(req);
      if (arrival) Object.assign(arrival, { info, user });
      return { user };
    },
    authorizeSubscribe: ({ session, channel }) => channel === `private/${(session.principal as { user: string }).user}`,
    onSubscribe: ({ channel }) => { setTimeout(() => comet.publish(channel, { secret: 1 }), 20); },
  });
  const endpointServer = http.createServer((req, res) => {
    if (handler(req, res)) return;
    if (req.url?.startsWith('/comet/handshake')) {
      const arrival: Arrival = {
        tag: new URL(req.url, 'http://x').searchParams.get('t') ?? '',
        cookie: req.headers.cookie !== undefined,
        secFetch: Object.keys(req.headers).some((name) => name.startsWith('sec-fetch-')),
        referer: req.headers.referer,
      };
      arrivals.push(arrival);
      byRequest.set(req, arrival);
    }
    comet.handler(req, res);
  });
  const endpointPort = await listen(endpointServer);
  t.after(async () => {
    await comet.close();
    for (const server of [endpointServer, allowedServer, foreignServer]) {
      server.closeAllConnections();
      server.close();
    }
  });
  const endpoint = `http://localhost:${endpointPort}/comet`;
  pages.set(`localhost:${endpointPort}/same.html`, page('/comet', 'same', undefined));
  pages.set(`127.0.0.1:${allowedPort}/allowed.html`, page(endpoint, 'allowed', allowed));
  pages.set(`127.0.0.1:${foreignPort}/foreign.html`, page(endpoint, 'foreign', `http://127.0.0.1:${foreignPort}`));

  const output = [
    await render(`http://localhost:${endpointPort}/same.html`),
    await render(`${allowed}/allowed.html`),
    await render(`http://127.0.0.1:${foreignPort}/foreign.html`),
  ].join('\n');

  for (const tag of ['same', 'allowed', 'foreign']) {
    const arrival = arrivals.find((each) => each.tag === tag);
    const report = reports.find((each) => each.tag === tag);
    assert.ok(arrival && report, `${tag}: the page ran (${JSON.stringify(reports)})\n${output}`);
    assert.equal(arrival.secFetch, false, `${tag}: an engine without Sec-Fetch-*`);
    assert.equal(arrival.cookie, true, `${tag}: the engine sent the user's cookie`);
    assert.ok(arrival.referer, `${tag}: and a Referer`);
    assert.equal(report.handshake, true, `${tag}: the JSONP handshake ran`);
    const messages = (frames: Report['poll']) => (frames ?? []).filter((frame) => frame.type === 'msg').map((frame) => frame.channel);
    if (tag === 'foreign') {
      assert.deepEqual(arrival.info, { via: 'script', pageOrigin: `http://127.0.0.1:${foreignPort}`, proof: undefined, credentials: false });
      assert.equal(arrival.user, 'anonymous');
      assert.deepEqual(report.ack?.errors, [{ id: 1, code: 'forbidden' }]);
      assert.deepEqual(messages(report.poll), []);
    } else {
      assert.deepEqual(arrival.info, {
        via: 'script',
        pageOrigin: tag === 'same' ? `http://localhost:${endpointPort}` : allowed,
        proof: tag === 'same' ? 'same-origin' : 'allowed-origin',
        credentials: true,
      }, tag);
      assert.equal(arrival.user, 'alice', tag);
      assert.deepEqual(report.ack?.errors, [], tag);
      assert.deepEqual(messages(report.poll), ['private/alice'], `${tag}: jsonp`);
      assert.deepEqual(messages(report.iframe), ['private/alice'], `${tag}: iframe`);
    }
  }
});
