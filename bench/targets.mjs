// The systems under test, each as one in-process HTTP server on 127.0.0.1 that serves a bench page,
// the client's own shipped browser bundle and its push endpoint, plus `publish(data)` to push one
// message to every connected page. Pages and endpoints share an origin, so no target needs CORS.
// The page side (`bench.onData`) is the same for every target; only the adapter differs, and each
// adapter uses the client's public API with its transport pinned.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const require = createRequire(root);

/**
 * Browser bundle of each client: the file the package ships (cometd ships ES modules only);
 * `readable`: cometkit's unminified UMD, for a profile that names functions (bench/profile-client.mjs).
 */
async function clientBundle(client, readable = false) {
  const file = {
    cometkit: readable ? 'dist/cometkit.umd.js' : 'dist/cometkit.umd.min.js',
    'socket.io': 'node_modules/socket.io-client/dist/socket.io.min.js',
    sockjs: 'node_modules/sockjs-client/dist/sockjs.min.js',
    faye: 'node_modules/faye/client/faye-browser-min.js',
  }[client];
  if (file) return readFile(new URL(file, root), 'utf8');
  if (client === 'cometd') {
    const result = await build({
      stdin: { contents: "import { CometD } from 'cometd'; window.CometD = CometD;", resolveDir: root.pathname },
      bundle: true, minify: true, format: 'iife', write: false, target: 'es2020',
    });
    return result.outputFiles[0].text;
  }
  return ''; // raw EventSource: the browser's own
}

/**
 * Records every message the page receives, stamped on the page's clock. `keep: false` (memory job)
 * only counts, so the heap shows what the transport holds, not what the harness keeps.
 */
const HARNESS = `
window.bench = {
  n: 0, dups: 0, warm: 0, bytes: 0, keep: true, seen: new Set(), index: [], sentAt: [], receivedAt: [], lastAt: 0,
  onData(data) {
    const now = performance.timeOrigin + performance.now();
    if (typeof data === 'string') data = JSON.parse(data);
    if (data.i < 0) { this.warm++; return; }
    if (this.keep) {
      if (this.seen.has(data.i)) { this.dups++; return; }
      this.seen.add(data.i); this.index.push(data.i); this.sentAt.push(data.t); this.receivedAt.push(now);
    }
    this.n++; this.lastAt = now; this.bytes += data.p.length;
  },
  reset(keep = true) {
    Object.assign(this, { n: 0, dups: 0, bytes: 0, keep, seen: new Set(), index: [], sentAt: [], receivedAt: [], lastAt: 0 });
  },
  take() {
    const out = { n: this.n, dups: this.dups, bytes: this.bytes, lastAt: this.lastAt, index: this.index, sentAt: this.sentAt, receivedAt: this.receivedAt };
    this.reset(this.keep);
    return out;
  },
};`;

/** Each target: which client, which transport, what kind of transport it is, its page adapter. */
export const TARGETS = [
  ...['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp'].map((transport) => ({
    name: `cometkit ${transport}`, client: 'cometkit', transport, ours: true,
    kind: { eventsource: 'sse', 'xhr-streaming': 'xhr-stream', multipart: 'xhr-stream', iframe: 'iframe', 'long-polling': 'long-poll', jsonp: 'jsonp' }[transport],
    adapter: `window.benchConnect = () => {
      const client = new CometKit.CometClient(location.origin + '/comet', { transports: [${JSON.stringify(transport)}] });
      client.subscribe('bench', (data) => bench.onData(data));
      window.benchTransport = () => client.transport;
    };`,
  })),
  {
    name: 'raw EventSource (floor)', client: 'raw', transport: 'eventsource', kind: 'sse', noResume: true,
    adapter: `window.benchConnect = () => { new EventSource('/raw-sse').onmessage = (event) => bench.onData(event.data); window.benchTransport = () => 'eventsource'; };`,
  },
  ...[['eventsource', 'sse'], ['xhr-streaming', 'xhr-stream'], ['htmlfile', 'iframe'], ['jsonp-polling', 'jsonp']].map(([transport, kind]) => ({
    name: `sockjs ${transport}`, client: 'sockjs', transport, kind,
    // SockJS never reconnects by itself; its documentation leaves that to the application, which
    // here opens a new SockJS at once when the old one closes.
    adapter: `window.benchConnect = () => {
      let used = null;
      const open = () => {
        const socket = new SockJS('/sockjs', null, { transports: [${JSON.stringify(transport)}] });
        socket.onopen = () => { used = socket.transport; };
        socket.onmessage = (event) => bench.onData(event.data);
        socket.onclose = () => setTimeout(open, 0);
      };
      open();
      window.benchTransport = () => used;
    };`,
  })),
  {
    name: 'socket.io polling', client: 'socket.io', transport: 'polling', kind: 'long-poll',
    adapter: `window.benchConnect = () => {
      const socket = io(location.origin, { transports: ['polling'] });
      socket.on('m', (data) => bench.onData(data));
      window.benchTransport = () => socket.io.engine && socket.io.engine.transport && socket.io.engine.transport.name;
    };`,
  },
  ...[['long-polling', 'long-poll'], ['eventsource', 'sse']].map(([transport, kind]) => ({
    name: `faye ${transport}`, client: 'faye', transport, kind,
    adapter: `window.benchConnect = () => {
      const client = new Faye.Client(location.origin + '/faye');
      client.disable('websocket');
      ${transport === 'long-polling' ? "client.disable('eventsource');" : ''}
      client.disable('callback-polling');
      client.subscribe('/bench', (data) => bench.onData(data));
      window.benchTransport = () => client._dispatcher && client._dispatcher._transport && client._dispatcher._transport.connectionType;
    };`,
  })),
  {
    name: 'cometd long-polling', client: 'cometd', transport: 'long-polling', kind: 'long-poll',
    adapter: `window.benchConnect = () => {
      const cometd = new CometD();
      cometd.unregisterTransport('websocket');
      cometd.unregisterTransport('callback-polling');
      cometd.configure({ url: location.origin + '/cometd', logLevel: 'warn' });
      cometd.addListener('/meta/handshake', (reply) => { if (reply.successful) cometd.subscribe('/bench', (message) => bench.onData(message.data)); });
      cometd.handshake();
      window.benchTransport = () => cometd.getTransport() && cometd.getTransport().type;
    };`,
  },
];

/** The comet half of a target: `handle(req, res)` for its endpoint paths, `publish`, `close`. */
async function startEndpoint(target, server, cometkitOptions) {
  if (target.client === 'cometkit') {
    const { createCometServer } = await import(new URL('dist/server.mjs', root).href);
    const comet = createCometServer({ onError: () => {}, ...cometkitOptions });
    return { handle: comet.handler, publish: (data) => comet.publish('bench', data), close: () => comet.close() };
  }
  if (target.client === 'raw') {
    const streams = new Set();
    return {
      handle(req, res) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
        res.write('retry: 1000\n\n');
        streams.add(res);
        req.on('close', () => streams.delete(res));
      },
      publish(data) { const event = `data: ${JSON.stringify(data)}\n\n`; for (const res of streams) res.write(event); },
      close() { for (const res of streams) res.destroy(); },
    };
  }
  if (target.client === 'socket.io') {
    const { Server } = require('socket.io');
    const io = new Server(server, { transports: ['polling'], serveClient: false, maxHttpBufferSize: 1e8 });
    return { handle: null, publish: (data) => io.emit('m', data), close: () => io.close() };
  }
  if (target.client === 'sockjs') {
    const sockjs = require('sockjs');
    const connections = new Set();
    const service = sockjs.createServer({ prefix: '/sockjs', log: () => {} });
    service.on('connection', (connection) => {
      connections.add(connection);
      connection.on('close', () => connections.delete(connection));
    });
    service.installHandlers(server);
    return {
      handle: null,
      publish(data) { const text = JSON.stringify(data); for (const connection of connections) connection.write(text); },
      close() { for (const connection of connections) connection.close(); },
    };
  }
  if (target.client === 'faye') {
    const faye = require('faye');
    const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 25 });
    bayeux.attach(server);
    return { handle: null, publish: (data) => bayeux.getClient().publish('/bench', data), close: () => bayeux.close() };
  }
  if (target.client === 'cometd') {
    const cometdServer = require('cometd-nodejs-server').createCometDServer({ timeout: 25000 });
    const channel = cometdServer.createServerChannel('/bench');
    return { handle: cometdServer.handle, publish: (data) => channel.publish(null, data), close: () => cometdServer.close() };
  }
  throw new Error(`unknown client ${target.client}`);
}

/**
 * Starts a target's server on 127.0.0.1. The page is at `${origin}/bench/page.html`.
 * `cometkitOptions` go to createCometServer; `readable` serves cometkit's unminified bundle.
 */
export async function startTarget(target, { cometkitOptions = {}, readable = false } = {}) {
  const bundle = await clientBundle(target.client, readable);
  const page = `<!DOCTYPE html><meta charset="utf-8"><title>${target.name}</title><script>${HARNESS}</script><script src="/bench/client.js"></script><script src="/bench/adapter.js"></script>`;
  const statics = {
    '/bench/page.html': ['text/html; charset=utf-8', page],
    '/bench/client.js': ['application/javascript; charset=utf-8', bundle],
    '/bench/adapter.js': ['application/javascript; charset=utf-8', target.adapter],
  };
  const server = createServer();
  server.keepAliveTimeout = 60_000;
  const endpoint = await startEndpoint(target, server, cometkitOptions);
  // Libraries that attach to the server (socket.io, sockjs, faye) answer their own paths first.
  server.on('request', (req, res) => {
    if (res.headersSent || res.writableEnded) return;
    const path = req.url.split('?')[0];
    if (path === '/bench/clock') {
      // The server's clock, for the latency job's check that page and server agree.
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
      res.end(String(performance.timeOrigin + performance.now()));
    } else if (statics[path]) {
      const [type, body] = statics[path];
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    } else if (endpoint.handle && (path.startsWith('/comet') || path === '/raw-sse')) {
      endpoint.handle(req, res);
    } else if (!['/socket.io/', '/sockjs', '/faye'].some((prefix) => path.startsWith(prefix))) {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set();
  server.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  let counter = 0;
  return {
    port: server.address().port,
    /** Pushes `{ i, t, p }`: the message's number, its send time (epoch ms) and `padBytes` of padding. */
    publish(index, padding) {
      counter += 1;
      endpoint.publish({ i: index, t: performance.timeOrigin + performance.now(), p: padding });
    },
    get published() { return counter; },
    async close() {
      try { await endpoint.close(); } catch { /* closing a peer's server twice is harmless here */ }
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
