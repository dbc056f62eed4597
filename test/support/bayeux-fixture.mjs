// The Bayeux servers of the browser suites: Faye and CometD mounted same-origin in the test
// runner's own server (/faye, /cometd, /cometd-ack with CometD's ack extension), and again each on a
// port of its own for cross-origin tests (the page builds those URLs with its own host name, so
// CometD's cookie stays same-site). Control routes under /__bayeux/<name>/ publish from the server
// side, cut connections, restart a server, cut connect replies on their way and read the counters.
// It loads faye and cometd-nodejs-server from node_modules (devDependencies), no build needed.
import { bayeuxEngine, startBayeuxServer, COMETD_VERSION, FAYE_VERSION } from './bayeux-servers.mjs';

const CONTROL = '/__bayeux/';

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startBayeuxFixture() {
  const timeoutMs = 2000;
  const engines = {
    faye: bayeuxEngine('faye', { timeoutMs }),
    cometd: bayeuxEngine('cometd', { timeoutMs }),
    'cometd-ack': bayeuxEngine('cometd', { timeoutMs, ack: true, path: '/cometd-ack', cookieName: 'BAYEUX_BROWSER_ACK' }),
    'faye-cross': await startBayeuxServer('faye', { timeoutMs }),
    'cometd-cross': await startBayeuxServer('cometd', { timeoutMs, cookieName: 'BAYEUX_BROWSER_CROSS' }),
  };
  const mounted = [engines.faye, engines.cometd, engines['cometd-ack']];

  async function control(url, req, res) {
    const [name, route] = url.pathname.slice(CONTROL.length).split('/');
    const engine = engines[name];
    if (route === 'env') {
      return sendJson(res, 200, {
        fayeCrossPort: engines['faye-cross'].port, cometdCrossPort: engines['cometd-cross'].port,
        fayeVersion: FAYE_VERSION, cometdVersion: COMETD_VERSION,
      });
    }
    if (!engine) return sendJson(res, 404, { error: 'no such server' });
    if (route === 'publish') {
      await engine.publish(url.searchParams.get('channel') ?? '/test', JSON.parse(url.searchParams.get('data') ?? 'null'));
    } else if (route === 'cut') engine.cut(req.socket);
    else if (route === 'restart') engine.restart(req.socket);
    else if (route === 'drop') engine.dropConnectReplies(Number(url.searchParams.get('count') ?? '1'));
    else if (route !== 'stats') return sendJson(res, 404, { error: 'no such route' });
    const { stats } = engine;
    return sendJson(res, 200, { ...stats, connectionTypes: [...stats.connectionTypes] });
  }

  const close = () => {
    for (const engine of mounted) engine.close();
    void engines['faye-cross'].stop();
    void engines['cometd-cross'].stop();
  };
  process.once('exit', close);

  return {
    /** Koa middleware for the test runner's server. */
    middleware: (ctx, next) => {
      const url = new URL(ctx.url, 'http://127.0.0.1');
      if (url.pathname.startsWith(CONTROL)) {
        ctx.respond = false;
        return control(url, ctx.req, ctx.res);
      }
      const engine = mounted.find((each) => each.owns(url.pathname));
      if (!engine) return next();
      // The server answers on the raw response (see fixture.mjs for why the status is set).
      ctx.status = 200;
      ctx.respond = false;
      engine.handle(ctx.req, ctx.res);
      return undefined;
    },
    close,
  };
}
