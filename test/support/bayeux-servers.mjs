// Real Bayeux servers for the Bayeux suites (Node and browsers): Faye (NodeAdapter) and CometD
// (cometd-nodejs-server), each behind a thin node:http handler that
// - counts the /meta/connect requests in flight per clientId (a request is in flight from its body's
//   end to its response's finish or its socket's close), so a test can assert the client never sent
//   a second concurrent one (Faye leaves it hanging, CometD answers it 500);
// - can cut every open connection (destroying the sockets) and restart the server (a fresh instance,
//   all sessions lost) without changing its URL;
// - answers CORS for CometD, whose Node server has none (a Java deployment adds a CrossOriginFilter);
//   Faye answers its own preflights.
// Faye's process crash on an aborted held poll is guarded here, see `guardFayeCrash`.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const faye = require('faye');
const cometd = require('cometd-nodejs-server');
const { AcknowledgedMessagesExtension } = require('cometd-nodejs-server/ack-extension');

export const FAYE_VERSION = require('faye/package.json').version;
export const COMETD_VERSION = require('cometd-nodejs-server/package.json').version;

/**
 * Faye 1.4.3 crashes its process when a client aborts a held request (a JSONP poll whose script
 * the browser cancels, a fetch aborted): node:http emits `error` (ECONNRESET, "aborted") on the
 * request, Faye's handler answers it with a 400, and when the held /meta/connect is answered later
 * Faye writes its head again: ERR_HTTP_HEADERS_SENT, thrown from a timer, uncaught. The guard makes
 * a second writeHead on a response of a Faye server a counted no-op (`crashesAvoided`), so the
 * test server survives and a test can see it happened; nothing else is changed.
 */
function guardFayeCrash(response, stats) {
  const writeHead = response.writeHead.bind(response);
  response.writeHead = (...args) => {
    if (response.headersSent || response.destroyed) {
      stats.crashesAvoided += 1;
      return response;
    }
    return writeHead(...args);
  };
  const end = response.end.bind(response);
  response.end = (...args) => {
    if (response.writableEnded) {
      stats.crashesAvoided += 1;
      return response;
    }
    return end(...args);
  };
}

function connectsOf(messages) {
  return [].concat(messages).filter((message) => message?.channel === '/meta/connect' && message.clientId).map((message) => message.clientId);
}

function cors(request, response) {
  const origin = request.headers.origin;
  if (!origin) return false;
  response.setHeader('Access-Control-Allow-Origin', origin);
  response.setHeader('Access-Control-Allow-Credentials', 'true');
  if (request.method !== 'OPTIONS') return false;
  response.writeHead(204, {
    'Access-Control-Allow-Methods': 'POST, GET',
    'Access-Control-Allow-Headers': request.headers['access-control-request-headers'] ?? 'Content-Type',
    'Access-Control-Max-Age': '600',
  });
  response.end();
  return true;
}

/**
 * One Bayeux server of `kind` ('faye' at /faye, 'cometd' at /cometd, or at `path`). `timeoutMs`:
 * how long a /meta/connect is held. `ack`: install CometD's acknowledgement extension.
 * `cookieName`: CometD's browser cookie, so that two CometD servers of one host name (cookies
 * ignore ports) do not overwrite each other's.
 */
export function bayeuxEngine(kind, { timeoutMs = 2000, ack = false, path = `/${kind}`, cookieName = 'BAYEUX_BROWSER' } = {}) {
  const stats = { connects: 0, maxConcurrentConnects: 0, crashesAvoided: 0, handshakes: 0, connectionTypes: new Set(), dropped: 0, inFlight: 0 };
  /** How many /meta/connect replies carrying messages to cut on their way (see dropConnectReplies). */
  let drops = 0;
  const inFlight = new Map();
  const sockets = new Set();
  let server;

  function create() {
    if (kind === 'faye') {
      const adapter = new faye.NodeAdapter({ mount: path, timeout: timeoutMs / 1000 });
      // Faye's in-process client (for server-side publishes) polls the server for ever: disconnected on close.
      let local;
      return {
        path,
        handle: (request, response) => adapter.handle(request, response),
        publish: (channel, data) => (local ??= adapter.getClient()).publish(channel, data),
        addExtension: (extension) => adapter.addExtension(extension),
        removeExtension: (extension) => adapter.removeExtension(extension),
        close: () => {
          local?.disconnect();
          adapter.close();
        },
      };
    }
    const cometdServer = cometd.createCometDServer({ timeout: timeoutMs, logLevel: 'info', browserCookieName: cookieName });
    if (ack) cometdServer.addExtension(new AcknowledgedMessagesExtension());
    return {
      path,
      handle: (request, response) => cometdServer.handle(request, response),
      publish: (channel, data) => new Promise((resolve) => { cometdServer.createServerChannel(channel).publish(null, data, () => resolve()); }),
      addExtension: (extension) => cometdServer.addExtension(extension),
      removeExtension: (extension) => cometdServer.removeExtension(extension),
      cometd: cometdServer,
      close: () => cometdServer.close(),
    };
  }

  /** Counts the /meta/connect of a request for as long as it is in flight. */
  function track(request, response, messages) {
    const ids = connectsOf(messages);
    for (const clientId of ids) {
      const count = (inFlight.get(clientId) ?? 0) + 1;
      inFlight.set(clientId, count);
      stats.connects += 1;
      stats.inFlight += 1;
      stats.maxConcurrentConnects = Math.max(stats.maxConcurrentConnects, count);
    }
    for (const message of [].concat(messages)) {
      if (message?.channel === '/meta/handshake') stats.handshakes += 1;
      if (message?.connectionType) stats.connectionTypes.add(message.connectionType);
    }
    if (ids.length) {
      const end = response.end.bind(response);
      response.end = (chunk, ...rest) => {
        if (drops > 0 && typeof chunk === 'string' && chunk.includes('"data"')) {
          // The reply is lost on its way: the server counts it sent, the client never gets it.
          drops -= 1;
          stats.dropped += 1;
          request.socket.destroy();
          return response;
        }
        return end(chunk, ...rest);
      };
    }
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      for (const clientId of ids) inFlight.set(clientId, inFlight.get(clientId) - 1);
      stats.inFlight -= ids.length;
    };
    response.once('finish', release);
    response.once('close', release);
  }

  /** The handler for requests under the server's path (the caller routes them). */
  function handle(request, response) {
    const { socket } = request;
    if (!sockets.has(socket)) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    if (kind === 'faye') guardFayeCrash(response, stats);
    if (kind === 'faye' && request.headers.accept?.includes('text/event-stream')) {
      // faye-websocket's EventSource stops its ping timer on its socket's 'end' or 'error' only; a
      // socket destroyed by cut() emits just 'close', which would leave the timer running for ever
      // (and the test process alive).
      socket.once('close', () => socket.emit('end'));
    }
    else if (cors(request, response)) return;
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method === 'GET' && url.searchParams.has('message')) {
      try {
        track(request, response, JSON.parse(url.searchParams.get('message')));
      } catch {
        // the server answers it
      }
    } else if (request.method === 'POST') {
      // Listening beside the server's own listeners, attached in the same tick: both get every chunk.
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          track(request, response, JSON.parse(request.headers['content-type']?.startsWith('application/json') ? body : new URLSearchParams(body).get('message') ?? ''));
        } catch {
          // the server answers it
        }
      });
    }
    server.handle(request, response);
  }

  server = create();
  return {
    kind,
    get path() { return server.path; },
    stats,
    handle,
    owns: (pathname) => pathname === server.path || pathname.startsWith(`${server.path}/`),
    publish: (channel, data) => server.publish(channel, data),
    addExtension: (extension) => server.addExtension(extension),
    removeExtension: (extension) => server.removeExtension(extension),
    get server() { return server; },
    /** Cuts the connection of the next `count` /meta/connect replies that carry messages, instead of sending them. */
    dropConnectReplies(count = 1) {
      drops += count;
    },
    /**
     * Destroys every open connection of the server's requests, but `spare` (the connection of the
     * control request asking for the cut, when the server shares its host with the control routes).
     */
    cut(spare) {
      for (const socket of sockets) if (socket !== spare) socket.destroy();
    },
    /** A fresh server instance (every session lost) at the same place, the open connections cut but `spare`. */
    restart(spare) {
      const old = server;
      server = create();
      this.cut(spare);
      old.close();
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

/** `bayeuxEngine` on its own node:http server on 127.0.0.1 (an ephemeral port unless given). */
export async function startBayeuxServer(kind, options = {}) {
  const engine = bayeuxEngine(kind, options);
  const http = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (engine.owns(pathname)) return engine.handle(request, response);
    response.writeHead(404, { 'Content-Type': 'text/plain' });
    response.end('not found');
  });
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = http.address();
  return Object.assign(engine, {
    port,
    url: `http://127.0.0.1:${port}${engine.path}`,
    async stop() {
      engine.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(() => resolve()));
    },
  });
}
