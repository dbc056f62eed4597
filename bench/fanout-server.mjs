// One server process of the fan-out job: `node bench/fanout-server.mjs <cometkit|socket.io|sockjs|faye>`.
// Listens on 127.0.0.1, says its port over IPC, then broadcasts on command: one message, stamped with
// the epoch time (performance.timeOrigin + performance.now()) just before it is published, to every
// connected client. Answers `rss` with its resident set size. Quits when its parent goes.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../', import.meta.url));
const kind = process.argv[2];
const server = createServer();
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0; // long polls and streams outlive Node's default 300 s request timeout
server.maxConnections = 100_000;

async function endpoint() {
  if (kind === 'cometkit') {
    const { createCometServer } = await import(new URL('../dist/server.mjs', import.meta.url).href);
    const comet = createCometServer({ onError: () => {} }); // every option at its default
    server.on('request', comet.handler);
    return { publish: (data) => comet.publish('fan', data), clients: () => comet.inspect().openDownstream };
  }
  if (kind === 'socket.io') {
    const { Server } = require('socket.io');
    const io = new Server(server, { transports: ['polling'], serveClient: false });
    return { publish: (data) => io.emit('m', data), clients: () => io.engine.clientsCount };
  }
  if (kind === 'sockjs') {
    const connections = new Set();
    const service = require('sockjs').createServer({ prefix: '/sockjs', log: () => {} });
    service.on('connection', (connection) => {
      connections.add(connection);
      connection.on('close', () => connections.delete(connection));
    });
    service.installHandlers(server);
    return {
      publish(data) { const text = JSON.stringify(data); for (const connection of connections) connection.write(text); },
      clients: () => connections.size,
    };
  }
  if (kind === 'faye') {
    const faye = require('faye');
    const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 25 });
    bayeux.attach(server);
    return { publish: (data) => bayeux.getClient().publish('/fan', data), clients: () => null };
  }
  throw new Error(`fanout-server: unknown server ${kind}`);
}

const { publish, clients } = await endpoint();
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
sampler.unref();
process.on('message', (command) => {
  if (command.type === 'broadcast') {
    const start = performance.now();
    publish({ b: command.b, t: performance.timeOrigin + start, p: 'x'.repeat(64) });
    const syncMs = performance.now() - start;
    // A server that defers its writes to the next turn (cometkit flushes on setImmediate) has
    // written them by the time an immediate queued after the publish runs.
    setImmediate(() => process.send({ type: 'broadcast', b: command.b, syncMs, turnMs: performance.now() - start }));
  } else if (command.type === 'rss') {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    process.send({ type: 'rss', rss, peakRss, clients: clients() });
  }
});
process.on('disconnect', () => process.exit(0));
