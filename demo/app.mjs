// The demo as one process: the reference server at /comet with the chat's presence and history,
// the demo pages and dist/ as static files, a demo-only route that cuts a person's connection,
// and a second endpoint on another port (another origin) for the compatibility page.
// It loads the built server (dist/server.mjs): `npm run demo` builds first.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createCometServer } from '../dist/server.mjs';
import { createChat, NICK_FORM } from './chat.mjs';
import { compatHooks, compatRoute, echoCompat } from './compat-routes.mjs';
import { createConnectionTracker } from './connections.mjs';
import { serveStatic } from './static.mjs';

const ENDPOINT = '/comet';
const MOUNTS = [
  { prefix: '/dist/', dir: fileURLToPath(new URL('../dist/', import.meta.url)) },
  { prefix: '/', dir: fileURLToPath(new URL('./public/', import.meta.url)) },
];

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address().port));
  });
}

function json(res, status, body, extraHeaders = {}) {
  res.writeHead(status, {
    ...extraHeaders,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(JSON.stringify(body));
}

/** Either hook of two allows; neither allows when both are absent or say no. */
const either = (first, second) => (context) => first(context) === true || second(context) === true;

/**
 * Starts the demo. `port` 0 picks a free port (tests); `crossPort` defaults to `port + 1`, or a
 * free one when `port` is 0. `leaveGraceMs`: how long a nickname that no tab holds stays in its room
 * (demo/chat.mjs). `cometOptions` override the endpoint's options (tests shorten timers).
 */
export async function startDemo({ host = '127.0.0.1', port = 8080, crossPort, historySize = 100, leaveGraceMs = 5000, cometOptions = {} } = {}) {
  const chat = createChat({ historySize, leaveGraceMs });
  const tracker = createConnectionTracker(ENDPOINT);
  const options = { path: ENDPOINT, sessionTimeoutMs: 30000, ...cometOptions };
  let cross;
  const comet = createCometServer({
    ...options,
    ...chat.hooks,
    authorizeSubscribe: either(chat.hooks.authorizeSubscribe, compatHooks.authorizeSubscribe),
    authorizePublish: either(chat.hooks.authorizePublish, compatHooks.authorizePublish),
    onPublish: (context) => (context.channel.startsWith('compat/') ? echoCompat(comet, context) : chat.hooks.onPublish(context)),
  });
  chat.attach(comet);

  let pageHeaders = {};
  const main = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    if (url.pathname === ENDPOINT || url.pathname.startsWith(`${ENDPOINT}/`)) {
      tracker.track(req, res, url);
      comet.handler(req, res);
    } else if (url.pathname === '/demo/config.json') {
      json(res, 200, { crossOrigin: cross.endpointFor(req) });
    } else if (url.pathname === '/demo/cut') {
      // Demo only: a real deployment must never let a page cut other people's connections.
      const nick = url.searchParams.get('nick') ?? '';
      if (req.method !== 'POST') json(res, 405, { error: 'method-not-allowed' });
      else if (!NICK_FORM.test(nick)) json(res, 400, { error: 'bad-nick' });
      else json(res, 200, { cut: tracker.cut(chat.sessionsOf(nick)) });
    } else if (!compatRoute(comet, url, (status, body) => json(res, status, body))
      && !serveStatic(MOUNTS, req, res, url.pathname, pageHeaders)) {
      json(res, 404, { error: 'not-found' });
    }
  });
  const actualPort = await listen(main, port, host);
  const pageOrigins = [`http://127.0.0.1:${actualPort}`, `http://localhost:${actualPort}`];
  cross = await startCrossOrigin({ host, port: crossPort ?? (port === 0 ? 0 : actualPort + 1), options, pageOrigins });
  // The pages may reach only this server and the cross-origin endpoint; nothing else, no inline script.
  const crossOrigins = ['127.0.0.1', 'localhost'].map((name) => `http://${name}:${cross.port}`).join(' ');
  pageHeaders = {
    'Content-Security-Policy': `default-src 'self' ${crossOrigins}; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'`,
    'Referrer-Policy': 'no-referrer',
  };

  return {
    url: `http://${host}:${actualPort}/`,
    port: actualPort,
    crossPort: cross.port,
    comet,
    chat,
    async close() {
      main.close();
      chat.close();
      await Promise.all([comet.close(), cross.close()]);
      main.closeAllConnections();
    },
  };
}

/** The second endpoint: same options, `allowedOrigins` set to the demo page's origins. */
async function startCrossOrigin({ host, port, options, pageOrigins }) {
  const comet = createCometServer({
    ...options,
    allowedOrigins: pageOrigins,
    ...compatHooks,
    onPublish: (context) => echoCompat(comet, context),
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const origin = req.headers.origin;
    const cors = origin && pageOrigins.includes(origin) ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {};
    if (!compatRoute(comet, url, (status, body) => json(res, status, body, cors))) comet.handler(req, res);
  });
  const actualPort = await listen(server, port, host);
  return {
    port: actualPort,
    /** The cross-origin endpoint under the host name the page used (another port: another origin). */
    endpointFor(req) {
      const name = (req.headers.host ?? '').startsWith('localhost:') ? 'localhost' : '127.0.0.1';
      return `http://${name}:${actualPort}${ENDPOINT}`;
    },
    async close() {
      server.close();
      await comet.close();
      server.closeAllConnections();
    },
  };
}
