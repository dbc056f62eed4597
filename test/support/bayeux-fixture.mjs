// The Bayeux servers of the browser suites: Faye and CometD mounted same-origin in the test
// runner's own server, and each again on a port of its own for cross-origin tests (the page builds
// those URLs with its own host name, so CometD's cookie stays same-site). The engines run their
// suites at the same time, and a restart must not reach another engine's sessions: so each page
// asks for a lane of its own (`/__bayeux/<lane>/env`), with its own servers:
//   /bayeux/<lane>/faye, /bayeux/<lane>/cometd, /bayeux/<lane>/cometd-ack (CometD's ack extension),
//   and faye-cross, cometd-cross on ports of their own.
// Control routes /__bayeux/<lane>/<server>/<route> publish from the server side, cut connections,
// restart a server, cut connect replies on their way and read the counters.
// It loads faye and cometd-nodejs-server from node_modules (devDependencies), no build needed.
import { bayeuxEngine, startBayeuxServer, COMETD_VERSION, FAYE_VERSION } from './bayeux-servers.mjs';

const CONTROL = '/__bayeux/';
const MOUNT = '/bayeux/';

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function startLane(lane) {
  const timeoutMs = 2000;
  // CometD's cookie: one name per server (cookies ignore ports, and these share a host name).
  const cookie = (server) => `BAYEUX_${lane}_${server}`.replace(/\W/g, '_');
  const path = (server) => `${MOUNT}${lane}/${server}`;
  return {
    faye: bayeuxEngine('faye', { timeoutMs, path: path('faye') }),
    cometd: bayeuxEngine('cometd', { timeoutMs, path: path('cometd'), cookieName: cookie('cometd') }),
    'cometd-ack': bayeuxEngine('cometd', { timeoutMs, ack: true, path: path('cometd-ack'), cookieName: cookie('cometd-ack') }),
    'faye-cross': await startBayeuxServer('faye', { timeoutMs }),
    'cometd-cross': await startBayeuxServer('cometd', { timeoutMs, cookieName: cookie('cometd-cross') }),
  };
}

const closeLane = (engines) => {
  for (const engine of Object.values(engines)) {
    if (engine.stop) void engine.stop();
    else engine.close();
  }
};

export function startBayeuxFixture() {
  /** Lane name to its servers, created on the page's first request. */
  const lanes = new Map();
  const laneOf = (lane) => {
    if (!/^\w{1,16}$/.test(lane)) throw new Error(`bad lane ${lane}`);
    if (!lanes.has(lane)) lanes.set(lane, startLane(lane));
    return lanes.get(lane);
  };

  async function control(url, req, res) {
    const [lane = '', name, route] = url.pathname.slice(CONTROL.length).split('/');
    const engines = await laneOf(lane);
    if (name === 'env') {
      return sendJson(res, 200, {
        faye: engines.faye.path, cometd: engines.cometd.path, cometdAck: engines['cometd-ack'].path,
        fayeCrossPort: engines['faye-cross'].port, cometdCrossPort: engines['cometd-cross'].port,
        fayeVersion: FAYE_VERSION, cometdVersion: COMETD_VERSION,
      });
    }
    const engine = engines[name];
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
    for (const lane of lanes.values()) void lane.then(closeLane);
  };
  process.once('exit', close);

  return {
    /** Koa middleware for the test runner's server. */
    middleware: async (ctx, next) => {
      const url = new URL(ctx.url, 'http://127.0.0.1');
      if (url.pathname.startsWith(CONTROL)) {
        ctx.respond = false;
        return control(url, ctx.req, ctx.res);
      }
      if (!url.pathname.startsWith(MOUNT)) return next();
      const [lane = ''] = url.pathname.slice(MOUNT.length).split('/');
      const engines = await laneOf(lane);
      const engine = [engines.faye, engines.cometd, engines['cometd-ack']].find((each) => each.owns(url.pathname));
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
