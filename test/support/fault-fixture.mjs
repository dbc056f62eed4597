// The fault suites' part of the browser fixture: a third reference server (any origin allowed, a
// one-second heartbeat so that stalls are found quickly) that pages reach only through fault
// proxies, and same-origin control routes under /__fixture/faults/ that drive those proxies and
// publish on and inspect the server directly, so that control traffic never crosses a proxy.
//
// Engines run side by side (the runner starts two browsers at once), so each test asks for a proxy
// of its own (`create`) and closes it when done; one shared proxy (`env.proxied`) stays in `pass`.
import { createServer } from 'node:http';
import { createCometServer } from '../../dist/server.mjs';
import { startFaultProxy } from './fault-proxy.mjs';

export const FAULTS_PREFIX = '/__fixture/faults/';

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

const number = (url, name, fallback) => {
  const value = Number(url.searchParams.get(name) ?? fallback);
  if (!Number.isFinite(value)) throw new RangeError(`${name} is not a number`);
  return value;
};

export async function startFaultFixture() {
  const comet = createCometServer({
    allowedOrigins: '*',
    heartbeatMs: 1000,
    // A poll answered every second keeps a stalled poll's detection (holdMs + tolerance) short too.
    holdMs: 1000,
    retryMs: 50,
    sessionTimeoutMs: 30000,
    // Room for every message of a chaos run, so that a resume never has to report a gap.
    bufferMaxMessages: 10000,
    bufferMaxBytes: 16 * 1024 * 1024,
  });
  const server = createServer((req, res) => comet.handler(req, res));
  const targetPort = await listen(server);
  const proxies = new Map();
  let nextId = 1;

  async function create(url) {
    const proxy = await startFaultProxy({
      targetPort,
      seed: number(url, 'seed', nextId),
      chaosCutMs: [number(url, 'cutMinMs', 20), number(url, 'cutMaxMs', 400)],
      chaosCutBytes: url.searchParams.has('cutMaxBytes') ? [number(url, 'cutMinBytes', 0), number(url, 'cutMaxBytes', 0)] : undefined,
    });
    const id = String(nextId++);
    proxies.set(id, proxy);
    return { id, endpoint: `http://127.0.0.1:${proxy.port}/comet` };
  }
  const shared = await create(new URL('http://127.0.0.1/'));

  /** Answers a /__fixture/faults/ route: the body to send as JSON, or undefined when not found. */
  async function route(name, url) {
    if (name === 'create') return create(url);
    if (name === 'publish') {
      // Payload indexes run from `from`, so bursts of one run carry one unbroken sequence.
      const channel = url.searchParams.get('channel') ?? 'test';
      const from = number(url, 'from', 1);
      const pad = 'x'.repeat(number(url, 'size', 0));
      let reached = 0;
      for (let index = from; index < from + number(url, 'count', 1); index += 1) {
        reached = comet.publish(channel, { index, pad });
      }
      return { reached };
    }
    if (name === 'inspect') return comet.inspect();
    const proxy = proxies.get(url.searchParams.get('id') ?? shared.id);
    if (!proxy) return undefined;
    if (name === 'mode') proxy.setMode(url.searchParams.get('mode') ?? 'pass');
    else if (name === 'cut') proxy.cutAll();
    else if (name === 'stall') proxy.stallOpen();
    else if (name === 'close' && proxy !== proxies.get(shared.id)) {
      proxies.delete(url.searchParams.get('id'));
      await proxy.close();
    } else if (name !== 'stats') return undefined;
    return { mode: proxy.mode, open: proxy.openConnections(), ...proxy.stats };
  }

  return {
    env: { proxied: shared.endpoint },
    /** Whether a same-origin request is one of the routes below FAULTS_PREFIX. */
    owns: (url) => url.pathname.startsWith(FAULTS_PREFIX),
    /** Answers such a request; resolves once the answer is written. */
    async handle(url, res) {
      let status = 200;
      let body;
      try {
        body = await route(url.pathname.slice(FAULTS_PREFIX.length), url);
        if (!body) [status, body] = [404, { type: 'error', code: 'not-found' }];
      } catch (error) {
        [status, body] = [400, { type: 'error', code: 'bad-request', message: String(error) }];
      }
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    },
    close() {
      for (const proxy of proxies.values()) void proxy.close();
      proxies.clear();
      void comet.close();
      server.closeAllConnections();
      server.close();
    },
  };
}
