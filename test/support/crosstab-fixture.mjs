// The cross-tab suites' servers: one reference server per test ("room"), mounted same-origin in the
// test runner's server at /xtab/<room>/comet, with counters the browser cannot fake: handshakes,
// downstream requests open now and at most at once, the sessions that opened a downstream
// request, and every publish the server applied (through `onPublish`, then broadcast as usual).
// Control routes under /__fixture/xtab/: `stats`, `publish` (count messages at once), `stream`
// (count messages, one every everyMs, from the server's own timer) and `slow-sends` (answers to
// upstream sends held back after they were applied, so that a page can go with its send in flight). The other-origin page of the
// security test is served by the fixture's second-origin server (`attackerPage`).
import { createCometServer } from '../../dist/server.mjs';

const PREFIX = '/xtab/';
const CONTROL = '/__fixture/xtab/';
const DOWNSTREAM = /\/(sse|xhr|multipart|iframe|poll|jsonp)$/;

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function makeRoom(id) {
  const room = {
    handshakes: 0,
    downstreamOpen: 0,
    downstreamMax: 0,
    downstreamTotal: 0,
    downstreamSessions: new Set(),
    sendDelayMs: 0,
    /** The last 30 downstream requests that ended (for a failure's message). */
    log: [],
    /** Every publish applied, in order: { channel, data }. */
    applied: [],
    subscribes: [],
    unsubscribes: [],
  };
  room.comet = createCometServer({
    path: `${PREFIX}${id}/comet`,
    heartbeatMs: 1000, holdMs: 2000, retryMs: 50, sessionTimeoutMs: 20000,
    onPublish: ({ channel, data }) => {
      room.applied.push({ channel, data });
      room.comet.publish(channel, data);
    },
    onSubscribe: ({ channel }) => { room.subscribes.push(channel); },
    onUnsubscribe: ({ channel, reason }) => { if (reason === 'unsubscribe') room.unsubscribes.push(channel); },
  });
  return room;
}

export function crossTabFixture() {
  const rooms = new Map();
  const room = (id) => {
    if (!rooms.has(id)) rooms.set(id, makeRoom(id));
    return rooms.get(id);
  };

  function control(url, res) {
    const route = url.pathname.slice(CONTROL.length);
    const target = room(url.searchParams.get('room') ?? '0');
    const channel = url.searchParams.get('channel') ?? 'stream';
    const count = Number(url.searchParams.get('count') ?? '1');
    if (route === 'stats') {
      const { comet, ...counters } = target;
      sendJson(res, 200, { ...counters, downstreamSessions: [...counters.downstreamSessions], inspect: comet.inspect() });
    } else if (route === 'publish') {
      for (let index = 1; index <= count; index++) target.comet.publish(channel, { index });
      sendJson(res, 200, { published: count });
    } else if (route === 'slow-sends') {
      // From now on, the answer to each upstream send leaves `ms` after the server applied it.
      target.sendDelayMs = Number(url.searchParams.get('ms') ?? '0');
      sendJson(res, 200, { sendDelayMs: target.sendDelayMs });
    } else if (route === 'stream') {
      const everyMs = Number(url.searchParams.get('everyMs') ?? '2');
      let index = 0;
      const timer = setInterval(() => {
        index++;
        target.comet.publish(channel, { index });
        if (index >= count) clearInterval(timer);
      }, everyMs);
      sendJson(res, 200, { streaming: count });
    } else {
      sendJson(res, 404, { type: 'error', code: 'not-found' });
    }
  }

  return {
    owns: (url) => url.pathname.startsWith(PREFIX) || url.pathname.startsWith(CONTROL),
    /** Handles a request of the test runner's server (koa ctx) under /xtab/ or /__fixture/xtab/. */
    handle(ctx, url) {
      ctx.respond = false;
      if (url.pathname.startsWith(CONTROL)) return control(url, ctx.res);
      ctx.status = 200;
      const target = room(url.pathname.slice(PREFIX.length).split('/')[0]);
      if (url.pathname.endsWith('/handshake')) target.handshakes++;
      if (DOWNSTREAM.test(url.pathname)) {
        target.downstreamOpen++;
        target.downstreamTotal++;
        target.downstreamMax = Math.max(target.downstreamMax, target.downstreamOpen);
        target.downstreamSessions.add(url.searchParams.get('session'));
        const at = Date.now();
        ctx.res.once('close', () => {
          target.downstreamOpen--;
          target.log.push(`${url.pathname.split('/').pop()} since=${url.searchParams.get('since')} ${Date.now() - at}ms`);
          if (target.log.length > 30) target.log.shift();
        });
      }
      if (target.sendDelayMs && url.pathname.endsWith('/send')) {
        const end = ctx.res.end.bind(ctx.res);
        ctx.res.end = (...args) => {
          setTimeout(() => end(...args), target.sendDelayMs);
          return ctx.res;
        };
      }
      target.comet.handler(ctx.req, ctx.res);
      return undefined;
    },
    close() {
      for (const { comet } of rooms.values()) void comet.close();
    },
  };
}

/**
 * The page of another origin in the security test: it knows the channel and lock names the
 * same-origin pages use and tries them. It listens on the channel, posts forged messages (a
 * publish, a message, a hello with a channel of its own, a claim to lead), asks whether the lock
 * is held, and tells its parent what it found when asked.
 */
export function attackerPage(res) {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>other origin</title><script>
const name = 'cometkit ' + new URLSearchParams(location.search).get('endpoint');
const channelName = new URLSearchParams(location.search).get('channel');
const heard = [];
const channel = new BroadcastChannel(name);
channel.onmessage = (event) => heard.push(event.data);
const forge = () => {
  channel.postMessage(['p', 'evil.1', channelName + '-up', { forged: true }]);
  channel.postMessage(['m', channelName, 1e9, { index: -1, forged: true }]);
  channel.postMessage(['h', 'evil', ['evil-channel']]);
  channel.postMessage(['l']);
};
forge();
addEventListener('message', async (event) => {
  if (event.data !== 'report') return;
  forge();
  try {
    const held = (await navigator.locks.query()).held.map((lock) => lock.name);
    // Free in this origin: the leader's lock of the other origin is not this origin's lock.
    const free = await navigator.locks.request(name, { ifAvailable: true }, (lock) => lock !== null);
    parent.postMessage({ heard: heard.length, held, free }, '*');
  } catch (error) {
    // Some engines deny Web Locks to a third-party frame outright (Chromium: SecurityError).
    parent.postMessage({ heard: heard.length, locksDenied: String(error) }, '*');
  }
});
parent.postMessage('attacker ready', '*');
</script>`);
}
