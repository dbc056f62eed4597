// A TCP proxy on loopback that misbehaves the way real networks do between a browser and a comet
// server. Modes, for connections opened after the change (and `cutAll()` for the open ones):
//   pass     forwards bytes both ways untouched;
//   stall    accepts the connection and forwards the request, but never forwards a byte of the
//            answer: open and silent, like a firewall that stops passing traffic;
//   buffer   holds each HTTP response whole until it ends, then forwards it at once, like a
//            buffering proxy or antivirus (a stream that never ends is never seen);
//   chaos    forwards bytes, but cuts each connection at a random moment, from a seeded PRNG.
// It is HTTP-aware only as far as `buffer` needs: finding where each response ends.

import { createServer, connect } from 'node:net';

/** mulberry32: small, seeded, good enough to make faults reproducible. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits a stream of HTTP/1.1 response bytes into whole responses. Handles Content-Length,
 * chunked bodies and bodies that run to the end of the connection.
 */
export function responseSplitter(onResponse) {
  let pending = Buffer.alloc(0);
  let bodyStart = -1;   // index in `pending` where the current body begins, -1 while in headers
  let mode = null;      // { length } | { chunked: offset } | { untilClose: true }

  function headerInfo(head) {
    const lines = head.toString('latin1').split('\r\n');
    const status = Number(lines[0]?.split(' ')[1]);
    const fields = new Map(lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }));
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) return { length: 0 };
    if (/chunked/i.test(fields.get('transfer-encoding') ?? '')) return { chunked: 0 };
    if (fields.has('content-length')) return { length: Number(fields.get('content-length')) };
    return { untilClose: true };
  }

  /** Index just past the end of a chunked body starting at `from`, or -1 while incomplete. */
  function chunkedEnd(from) {
    let offset = from;
    for (;;) {
      const lineEnd = pending.indexOf('\r\n', offset, 'latin1');
      if (lineEnd < 0) return -1;
      const size = parseInt(pending.toString('latin1', offset, lineEnd), 16);
      if (Number.isNaN(size)) return pending.length; // not chunked after all: flush what we have
      if (size === 0) {
        const trailerEnd = pending.indexOf('\r\n\r\n', lineEnd, 'latin1');
        return trailerEnd < 0 ? -1 : trailerEnd + 4;
      }
      const next = lineEnd + 2 + size + 2;
      if (next > pending.length) return -1;
      offset = next;
    }
  }

  function drain() {
    for (;;) {
      if (bodyStart < 0) {
        const headEnd = pending.indexOf('\r\n\r\n', 0, 'latin1');
        if (headEnd < 0) return;
        mode = headerInfo(pending.subarray(0, headEnd));
        bodyStart = headEnd + 4;
      }
      let end = -1;
      if ('length' in mode) end = pending.length >= bodyStart + mode.length ? bodyStart + mode.length : -1;
      else if ('chunked' in mode) end = chunkedEnd(bodyStart);
      if (end < 0) return;
      onResponse(pending.subarray(0, end));
      pending = pending.subarray(end);
      bodyStart = -1;
      mode = null;
    }
  }

  return {
    push(bytes) {
      pending = Buffer.concat([pending, bytes]);
      drain();
    },
    /** The upstream connection ended: a body that ran to the close is complete now. */
    end() {
      if (pending.length > 0) onResponse(pending);
      pending = Buffer.alloc(0);
    },
  };
}

export async function startFaultProxy({ targetPort, targetHost = '127.0.0.1', seed = 1, chaosCutMs = [20, 400] } = {}) {
  const random = seededRandom(seed);
  const open = new Set();
  let mode = 'pass';
  const stats = { connections: 0, cuts: 0, maxConcurrent: 0 };

  const server = createServer((client) => {
    stats.connections += 1;
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream };
    open.add(pair);
    stats.maxConcurrent = Math.max(stats.maxConcurrent, open.size);
    const connectionMode = mode;
    let timer = null;

    const teardown = () => {
      if (timer) clearTimeout(timer);
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', connectionMode === 'stall' ? () => {} : teardown);
    client.on('close', teardown);
    // A stalled path never tells the browser anything, not even that the server hung up.
    if (connectionMode !== 'stall') upstream.on('close', teardown);

    client.on('data', (bytes) => upstream.write(bytes));
    if (connectionMode === 'stall') {
      upstream.on('data', () => {}); // swallowed: the browser sees an open, silent connection
    } else if (connectionMode === 'buffer') {
      const splitter = responseSplitter((response) => client.write(response));
      upstream.on('data', (bytes) => splitter.push(bytes));
      upstream.on('end', () => { splitter.end(); client.end(); });
    } else {
      upstream.on('data', (bytes) => client.write(bytes));
      upstream.on('end', () => client.end());
    }
    if (connectionMode === 'chaos') {
      const [low, high] = chaosCutMs;
      timer = setTimeout(() => { stats.cuts += 1; teardown(); }, low + random() * (high - low));
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    port: server.address().port,
    stats,
    get mode() { return mode; },
    /** Applies to connections opened from now on. */
    setMode(next) {
      if (!['pass', 'stall', 'buffer', 'chaos'].includes(next)) throw new Error(`unknown proxy mode ${next}`);
      mode = next;
    },
    /** Cuts every open connection, as a proxy restart or a network change would. */
    cutAll() {
      for (const pair of [...open]) {
        stats.cuts += 1;
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
    openConnections: () => open.size,
    close() {
      for (const pair of open) { pair.client.destroy(); pair.upstream.destroy(); }
      open.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
