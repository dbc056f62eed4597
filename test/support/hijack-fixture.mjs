// The script-hijack suite's part of the browser fixture (PROTOCOL.md §10): a reference server with an
// `authenticate` hook that reads the user from a cookie, mounted in the test runner's own origin at
// /__fixture/hijack/comet, and a page server on two more loopback ports: one listed in
// allowedOrigins (A), one not (B). Each port is reached as `localhost` (same site as the runner's
// page) and as `127.0.0.1` (another site). B serves a page that includes the victim's handshake by
// script tag and tries to act as the user with the session it gets; A serves a page that runs the
// real client (the built UMD bundle). What each handshake carried when it arrived (before the
// server removed anything) and what the hook was told are recorded for the test to read.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createCometServer } from '../../dist/server.mjs';

export const HIJACK_PREFIX = '/__fixture/hijack/';
const ENDPOINT_PATH = `${HIJACK_PREFIX}comet`;

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** A value for an inline script: JSON with `<` escaped, so no string can close the element. */
const inline = (value) => JSON.stringify(value).replace(/</g, '\\u003c');

function userOf(cookieHeader) {
  return /(?:^|;\s*)hj_(?:lax|none)=(\w+)/.exec(cookieHeader ?? '')?.[1];
}

/** The foreign page: the victim's handshake by script tag, then a subscribe to the user's private channel with the session it got. */
function attackerPage(params) {
  return `<!DOCTYPE html><meta charset="utf-8"><title>attacker</title><script>
(async () => {
  const victim = ${inline(params.get('victim'))};
  const nonce = ${inline(params.get('nonce'))};
  const load = (url) => new Promise((resolve) => {
    const name = 'steal' + Math.random().toString(36).slice(2);
    let value;
    window[name] = (v) => { value = v; };
    const script = document.createElement('script');
    script.src = url + '&callback=' + name;
    script.onload = () => resolve(value === undefined ? { error: 'ran without calling back' } : { value });
    script.onerror = () => resolve({ error: 'did not load' });
    document.head.append(script);
  });
  const handshake = await load(victim + '/handshake?v=1&t=' + nonce);
  let subscribe;
  if (handshake.value && handshake.value.session) {
    const messages = encodeURIComponent(JSON.stringify([{ id: 1, type: 'subscribe', channel: 'private/alice' }]));
    subscribe = await load(victim + '/send?session=' + handshake.value.session + '&messages=' + messages);
  }
  parent.postMessage({ nonce, handshake, subscribe }, '*');
})();
</script>`;
}

/** An allowed page: the real client over one script transport, reporting every message to its parent. */
function appPage(params) {
  return `<!DOCTYPE html><meta charset="utf-8"><title>app</title><script src="/cometkit.umd.js"></script><script>
  const nonce = ${inline(params.get('nonce'))};
  const client = new CometKit.CometClient(${inline(params.get('endpoint'))}, {
    transports: [${inline(params.get('transport'))}], shareAcrossTabs: false, reconnect: { initialDelayMs: 20, maxDelayMs: 250 },
  });
  const report = (kind, detail) => parent.postMessage({ nonce, kind, detail }, '*');
  client.on('error', (error) => report('error', { type: error.type, code: error.code, status: error.status, message: error.message }));
  client.on('statechange', ({ state }) => report('state', state));
  for (const channel of ['public', 'private/alice']) client.subscribe(channel, (data) => report('message', { channel, data }));
  addEventListener('message', (event) => { if (event.data === 'close') client.close(); });
</script>`;
}

export async function startHijackFixture() {
  /** Every handshake the victim got: what arrived, what the hook was told, and the session it made. */
  const handshakes = [];
  const byRequest = new WeakMap();
  const pageServer = () => createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/cometkit.umd.js') {
      readFile(new URL('../../dist/cometkit.umd.js', import.meta.url)).then((body) => {
        res.writeHead(200, { 'Content-Type': 'application/javascript', 'Cache-Control': 'no-store' });
        res.end(body);
      }, () => sendJson(res, 404, { type: 'error', code: 'not-found' }));
      return;
    }
    const page = url.pathname === '/attacker.html' ? attackerPage : url.pathname === '/app.html' ? appPage : undefined;
    if (!page) return sendJson(res, 404, { type: 'error', code: 'not-found' });
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(page(url.searchParams));
  });
  const allowedServer = pageServer();
  const foreignServer = pageServer();
  const allowedPort = await listen(allowedServer);
  const foreignPort = await listen(foreignServer);

  const comet = createCometServer({
    path: ENDPOINT_PATH,
    allowedOrigins: [`http://localhost:${allowedPort}`, `http://127.0.0.1:${allowedPort}`],
    heartbeatMs: 1000, holdMs: 1000, retryMs: 50, sessionTimeoutMs: 20000,
    authenticate(req, info) {
      const principal = { user: userOf(req.headers.cookie) ?? 'anonymous' };
      const record = byRequest.get(req);
      if (record) Object.assign(record, { info, principal });
      return principal;
    },
    onSessionOpen({ session, req }) {
      const record = byRequest.get(req);
      if (record) record.session = session.id;
    },
    // The user's own channel is the user's alone.
    authorizeSubscribe: ({ session, channel }) => !channel.startsWith('private/') || channel === `private/${session.principal?.user}`,
  });

  function control(route, url, res) {
    if (route === 'handshakes') return sendJson(res, 200, handshakes);
    if (route === 'publish') {
      const reached = comet.publish(url.searchParams.get('channel') ?? 'public', { index: Number(url.searchParams.get('index') ?? '1') });
      return sendJson(res, 200, { reached });
    }
    return sendJson(res, 404, { type: 'error', code: 'not-found' });
  }

  return {
    env: {
      hijack: {
        endpointPath: ENDPOINT_PATH,
        allowedPort,
        foreignPort,
      },
    },
    owns: (url) => url.pathname.startsWith(HIJACK_PREFIX),
    /** Koa middleware body for a request under HIJACK_PREFIX. */
    handle(ctx, url) {
      ctx.respond = false;
      if (url.pathname === ENDPOINT_PATH || url.pathname.startsWith(`${ENDPOINT_PATH}/`)) {
        ctx.status = 200;
        const req = ctx.req;
        if (url.pathname.endsWith('/handshake')) {
          // Recorded as it arrived: the server removes what the page may not use before the hook runs.
          const record = {
            t: url.searchParams.get('t'),
            script: url.searchParams.has('callback'),
            cookieUser: userOf(req.headers.cookie) ?? null,
            secFetchSite: req.headers['sec-fetch-site'] ?? null,
            secFetchDest: req.headers['sec-fetch-dest'] ?? null,
            referer: req.headers.referer ?? null,
            origin: req.headers.origin ?? null,
          };
          handshakes.push(record);
          byRequest.set(req, record);
        }
        comet.handler(req, ctx.res);
        return undefined;
      }
      control(url.pathname.slice(HIJACK_PREFIX.length), url, ctx.res);
      return undefined;
    },
    close() {
      void comet.close();
      for (const server of [allowedServer, foreignServer]) {
        server.closeAllConnections();
        server.close();
      }
    },
  };
}
