// The load generator of the fan-out job, in a process of its own:
//   node bench/fanout-load.mjs <cometkit|socket.io|sockjs|faye> <streaming|long-polling> <port> <count>
// Opens `count` clients against the server on 127.0.0.1:<port>, speaking each server's own wire
// protocol over node:http (subscribe, then one open stream or one held poll per client, a new
// poll as soon as one is answered), spread over several loopback source addresses. For each
// broadcast it records, per client, arrival time minus the server's stamp (one clock, the epoch).
// On `cut`, it cuts every cometkit stream at once and resumes each after a random wait.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const [kind, mode, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const epochNow = () => performance.timeOrigin + performance.now();
// Ephemeral ports run per source address: 127.0.0.1-8 keep 10,000+ connections per run far from
// the 28,000 of one address, over repeated runs too.
const SOURCES = Array.from({ length: 8 }, (_, k) => `127.0.0.${k + 1}`);
const setupAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const downstreamAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100_000 });

const arrivals = new Map(); // broadcast number -> latencies in ms
const status = { established: 0, inFlight: 0, errors: 0, lastError: '' };
let expected = count;

function arrived(data) {
  if (data?.b === undefined) return;
  const at = epochNow();
  const list = arrivals.get(data.b) ?? [];
  list.push(at - data.t);
  arrivals.set(data.b, list);
  if (list.length === expected) process.send({ type: 'complete', b: data.b });
}

function failed(error) {
  status.errors += 1;
  status.lastError = String(error?.message ?? error);
}

/** One request with its whole answer as text. */
function fetchText({ method = 'GET', path, body, headers = {}, agent = setupAgent, source }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers, localAddress: source }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A streamed answer, fed to `onLine` line by line; returns the request. Errors of a stream the
 * load generator cut itself (`cut()` true) are not the server's.
 */
function openStream({ method = 'GET', path, body, headers = {}, source }, onLine, cut = () => false) {
  const failedUnlessCut = (error) => { if (!cut()) failed(error); };
  const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: downstreamAgent, localAddress: source }, (res) => {
    if (res.statusCode !== 200) { failed(new Error(`stream answered ${res.statusCode}`)); res.resume(); return; }
    status.established += 1;
    let pending = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) onLine(line);
    });
    res.on('error', failedUnlessCut);
  });
  req.on('error', failedUnlessCut);
  req.end(body);
  return req;
}

/**
 * The cometkit streams, for the mass cut: each cuts its own connection, and opens a new one from
 * the last seq it saw, as the client resumes (PROTOCOL.md §8.2).
 */
const resumable = [];

/** Cuts every stream at once, then resumes each after a uniform random wait below `windowMs`. */
function cutAll(windowMs) {
  for (const stream of resumable) stream.cut();
  process.send({ type: 'cut' });
  for (const stream of resumable) setTimeout(stream.open, Math.random() * windowMs);
}

/** Polls for ever: `next()` gives the request, `onAnswer(text)` takes the answer. */
async function pollLoop(next, onAnswer) {
  let first = true;
  for (;;) {
    status.inFlight += 1;
    try {
      const answer = await fetchText({ ...next(), agent: downstreamAgent });
      status.inFlight -= 1;
      if (first) { status.established += 1; first = false; }
      if (answer.status !== 200) throw new Error(`poll answered ${answer.status}`);
      onAnswer(answer.text);
    } catch (error) {
      status.inFlight -= 1;
      failed(error);
      return;
    }
  }
}

const json = { 'Content-Type': 'application/json' };
const CLIENTS = {
  async cometkit(source) {
    const hello = JSON.parse((await fetchText({ method: 'POST', path: '/comet/handshake?v=1', source })).text);
    const session = hello.session;
    await fetchText({ method: 'POST', path: `/comet/send?session=${session}`, headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ messages: [{ id: 1, type: 'subscribe', channel: 'fan' }] }), source });
    let since = 0;
    if (mode === 'streaming') {
      let req = null;
      let cut = false;
      const open = () => {
        cut = false;
        req = openStream({ path: `/comet/sse?session=${session}&since=${since}`, source }, (line) => {
          if (!line.startsWith('data: ')) return;
          const frame = JSON.parse(line.slice(6));
          if (frame.type === 'msg') { since = frame.seq; arrived(frame.data); }
        }, () => cut);
      };
      resumable.push({ open, cut: () => { cut = true; req?.destroy(); } });
      return open;
    }
    return () => void pollLoop(() => ({ path: `/comet/poll?session=${session}&since=${since}`, source }), (text) => {
      for (const frame of JSON.parse(text)) {
        if (frame.type === 'msg') { since = Math.max(since, frame.seq); arrived(frame.data); }
      }
    });
  },
  async 'socket.io'(source) {
    const base = '/socket.io/?EIO=4&transport=polling';
    const open = await fetchText({ path: base, source });
    const sid = JSON.parse(open.text.slice(1)).sid;
    await fetchText({ method: 'POST', path: `${base}&sid=${sid}`, headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: '40', source });
    return () => void pollLoop(() => ({ path: `${base}&sid=${sid}`, source }), (text) => {
      for (const packet of text.split('\x1e')) {
        if (packet.startsWith('42')) { const [, data] = JSON.parse(packet.slice(2)); arrived(data); }
        // Engine.IO ping from the server: answer pong, as the client library does.
        else if (packet === '2') void fetchText({ method: 'POST', path: `${base}&sid=${sid}`, headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: '3', source }).catch(failed);
      }
    });
  },
  async sockjs(source) {
    const path = `/sockjs/000/${randomBytes(8).toString('hex')}`;
    const frames = (line) => {
      if (!line.startsWith('a')) return;
      for (const text of JSON.parse(line.slice(1))) arrived(JSON.parse(text));
    };
    if (mode === 'streaming') return () => openStream({ method: 'POST', path: `${path}/xhr_streaming`, source }, frames);
    return () => void pollLoop(() => ({ method: 'POST', path: `${path}/xhr`, source }), (text) => text.split('\n').forEach(frames));
  },
  async faye(source) {
    const post = async (messages) => JSON.parse((await fetchText({ method: 'POST', path: '/faye', headers: json, body: JSON.stringify(messages), source })).text);
    const [hello] = await post([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling', 'eventsource'] }]);
    const clientId = hello.clientId;
    await post([{ channel: '/meta/subscribe', clientId, subscription: '/fan' }]);
    const deliver = (messages) => { for (const message of messages) if (message.channel === '/fan') arrived(message.data); };
    if (mode === 'streaming') {
      return () => {
        openStream({ path: `/faye/${clientId}`, headers: { Accept: 'text/event-stream' }, source }, (line) => {
          if (line.startsWith('data: ')) deliver(JSON.parse(line.slice(6)));
        });
        // The eventsource connection type still sends /meta/connect, answered at once, to keep
        // the session alive (faye's server advises an interval of its timeout).
        const connect = () => post([{ channel: '/meta/connect', clientId, connectionType: 'eventsource' }]).then(deliver, failed);
        void connect();
        setInterval(connect, 20_000).unref();
      };
    }
    return () => void pollLoop(() => ({ method: 'POST', path: '/faye', headers: json, body: JSON.stringify([{ channel: '/meta/connect', clientId, connectionType: 'long-polling' }]), source }), (text) => deliver(JSON.parse(text)));
  },
};

async function main() {
  const client = CLIENTS[kind];
  const starts = [];
  const setupStarted = Date.now();
  // Setup (handshake, subscribe) 100 at a time, bounded in time as a whole.
  for (let offset = 0; offset < count && Date.now() - setupStarted < 120_000; offset += 100) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(100, count - offset) }, (_, k) => client(SOURCES[(offset + k) % SOURCES.length])));
    for (const result of batch) {
      if (result.status === 'fulfilled') starts.push(result.value);
      else failed(result.reason);
    }
  }
  const setupMs = Date.now() - setupStarted;
  for (let offset = 0; offset < starts.length; offset += 500) {
    starts.slice(offset, offset + 500).forEach((start) => start());
    await new Promise((resolve) => setImmediate(resolve));
  }
  expected = starts.length;
  process.send({ type: 'started', clients: starts.length, setupMs });
}

process.on('message', (command) => {
  if (command.type === 'status') process.send({ type: 'status', ...status, clients: expected });
  else if (command.type === 'report') process.send({ type: 'report', b: command.b, latencies: arrivals.get(command.b) ?? [] });
  else if (command.type === 'cut') cutAll(command.windowMs);
});
process.on('disconnect', () => process.exit(0));
main().catch((error) => { failed(error); process.send({ type: 'started', clients: 0, setupMs: 0, error: status.lastError }); });
