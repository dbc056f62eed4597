// A TCP proxy on loopback that misbehaves the way real networks do between a browser and a comet
// server. Modes, for connections opened after the change (and `cutAll()` for the open ones):
//   pass     forwards bytes both ways untouched;
//   stall    accepts the connection and forwards the request, but never forwards a byte of the
//            answer: open and silent, like a firewall that stops passing traffic;
//   buffer   holds each HTTP response whole until it ends, then forwards it at once, like a
//            buffering proxy or antivirus (a stream that never ends is never seen);
//   chaos    forwards bytes, but cuts each connection at a random moment, from a seeded PRNG:
//            a time after it opened (`chaosCutMs`) or, when `chaosCutBytes` is given, a number of
//            answer bytes forwarded, whichever comes first. The byte cut lands inside a response:
//            browsers resend a request whose reused connection fails before any answer byte
//            arrived, so on loopback, where answers take a millisecond, only a byte cut reaches
//            a polling client (measured in Chromium, Firefox and WebKit).
// `stallOpen()` does to the open connections what `stall` does to new ones: from then on they
// forward nothing more of the answers and never close, like a flow a firewall stopped passing.
// It is HTTP-aware only as far as `buffer` needs: finding where each response ends.

import { createServer, connect } from 'node:net';
import { seededRandom } from './seeded-random.mjs';


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

export async function startFaultProxy({ targetPort, targetHost = '127.0.0.1', seed = 1, chaosCutMs = [20, 400], chaosCutBytes } = {}) {
  const random = seededRandom(seed);
  const open = new Set();
  let mode = 'pass';
  const stats = { connections: 0, cuts: 0, stalls: 0, maxConcurrent: 0 };

  const server = createServer((client) => {
    stats.connections += 1;
    const upstream = connect(targetPort, targetHost);
    const connectionMode = mode;
    let timer = null;
    // Once stalled, nothing more of the answers reaches the browser, not even that the server hung
    // up: the browser sees an open, silent connection.
    const pair = {
      client,
      upstream,
      stalled: connectionMode === 'stall',
      stall() {
        pair.stalled = true;
        if (timer) clearTimeout(timer);
      },
    };
    open.add(pair);
    stats.maxConcurrent = Math.max(stats.maxConcurrent, open.size);

    const teardown = () => {
      if (timer) clearTimeout(timer);
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', () => { if (!pair.stalled) teardown(); });
    client.on('close', teardown);
    upstream.on('close', () => { if (!pair.stalled) teardown(); });

    const cut = () => {
      if (!open.has(pair)) return; // already gone: nothing left to cut
      stats.cuts += 1;
      teardown();
    };
    /** Answer bytes this connection forwards before its chaos cut. */
    let budget = Infinity;
    if (connectionMode === 'chaos') {
      const [low, high] = chaosCutMs;
      timer = setTimeout(cut, low + random() * (high - low));
      if (chaosCutBytes) budget = Math.round(chaosCutBytes[0] + random() * (chaosCutBytes[1] - chaosCutBytes[0]));
    }

    client.on('data', (bytes) => upstream.write(bytes));
    const forward = (bytes) => {
      if (pair.stalled || budget === 0) return;
      if (bytes.length < budget) {
        budget -= bytes.length;
        client.write(bytes);
        return;
      }
      client.write(bytes.subarray(0, budget), cut);
      budget = 0;
    };
    if (connectionMode === 'buffer') {
      const splitter = responseSplitter(forward);
      upstream.on('data', (bytes) => splitter.push(bytes));
      upstream.on('end', () => { splitter.end(); if (!pair.stalled) client.end(); });
    } else {
      upstream.on('data', forward);
      upstream.on('end', () => { if (!pair.stalled) client.end(); });
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
    /** Silences every open connection for good (see `stall` above); new ones follow the mode. */
    stallOpen() {
      for (const pair of open) {
        if (!pair.stalled) stats.stalls += 1;
        pair.stall();
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
