// The reference server as the browser suites see it: mounted same-origin inside the test runner's
// own web server at /comet, and again on a second port for cross-origin tests, with a few control
// routes (/__fixture/...) that tell a page where the servers are, make them publish, and read
// their counters. The fault suites' server and proxies live in fault-fixture.mjs, the cross-tab
// suites' in crosstab-fixture.mjs.
// It loads the built server (dist/server.mjs): `npm test` builds before the browser suites run.
import { createServer } from 'node:http';
import { createCometServer } from '../../dist/server.mjs';
import { startFaultFixture } from './fault-fixture.mjs';
import { attackerPage, crossTabFixture } from './crosstab-fixture.mjs';
import { startHijackFixture } from './hijack-fixture.mjs';

const FIXTURE_PREFIX = '/__fixture/';

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
  res.end(JSON.stringify(body));
}

/** Control routes shared by both origins; answers false when the path is not one of them. */
function control(comet, url, res) {
  if (!url.pathname.startsWith(FIXTURE_PREFIX)) return false;
  const route = url.pathname.slice(FIXTURE_PREFIX.length);
  if (route === 'publish') {
    const channel = url.searchParams.get('channel') ?? 'test';
    const count = Number(url.searchParams.get('count') ?? '1');
    const size = Number(url.searchParams.get('size') ?? '0');
    let reached = 0;
    for (let index = 1; index <= count; index += 1) {
      reached = comet.publish(channel, { index, pad: 'x'.repeat(size) });
    }
    sendJson(res, 200, { reached });
  } else if (route === 'inspect') {
    sendJson(res, 200, comet.inspect());
  } else {
    sendJson(res, 404, { type: 'error', code: 'not-found' });
  }
  return true;
}

export async function startFixture() {
  // Short heartbeats keep the suites quick; generous limits elsewhere keep them deterministic.
  const options = { heartbeatMs: 1000, holdMs: 2000, retryMs: 50, sessionTimeoutMs: 20000 };
  const sameOrigin = createCometServer({ ...options });
  const crossOrigin = createCometServer({ ...options, allowedOrigins: '*' });

  const crossTab = crossTabFixture();
  const crossServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/__fixture/xtab/attacker.html') attackerPage(res);
    else if (!control(crossOrigin, url, res)) crossOrigin.handler(req, res);
  });
  const crossPort = await listen(crossServer);
  const faults = await startFaultFixture();
  const hijack = await startHijackFixture();
  const env = { sameOrigin: '/comet', crossOrigin: `http://127.0.0.1:${crossPort}/comet`, ...faults.env, ...hijack.env };

  const shutdown = () => {
    faults.close();
    hijack.close();
    crossTab.close();
    void sameOrigin.close();
    void crossOrigin.close();
    crossServer.closeAllConnections();
    crossServer.close();
  };
  process.once('exit', shutdown);

  return {
    env,
    /** Koa middleware for the test runner's server: /comet and /__fixture/ go to the same-origin server. */
    middleware: (ctx, next) => {
      const url = new URL(ctx.url, 'http://127.0.0.1');
      if (url.pathname === '/comet' || url.pathname.startsWith('/comet/')) {
        // The comet handler answers on the raw response; without a status of its own, koa (and
        // the runner's request log) would count every such request as a 404.
        ctx.status = 200;
        ctx.respond = false;
        sameOrigin.handler(ctx.req, ctx.res);
        return undefined;
      }
      if (crossTab.owns(url)) return crossTab.handle(ctx, url);
      if (hijack.owns(url)) return hijack.handle(ctx, url);
      if (url.pathname === `${FIXTURE_PREFIX}env`) {
        ctx.respond = false;
        sendJson(ctx.res, 200, env);
        return undefined;
      }
      if (faults.owns(url)) {
        ctx.respond = false;
        return faults.handle(url, ctx.res);
      }
      if (url.pathname.startsWith(FIXTURE_PREFIX)) {
        ctx.respond = false;
        control(sameOrigin, url, ctx.res);
        return undefined;
      }
      return next();
    },
    close: shutdown,
  };
}
