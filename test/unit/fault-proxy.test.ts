// The fault proxy is itself test equipment: these tests make sure each of its faults really
// happens, so that a green fault test means the client survived the fault, not that none occurred.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultProxy, responseSplitter, type FaultMode } from '../support/fault-proxy.mjs';

/** A server that writes `first`, then `second` when told to, then ends. */
async function streamingServer() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => { release = resolve; });
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('first;');
    void released.then(() => res.end('second;'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, release };
}

/** Reads a response through the proxy, recording each chunk as it arrives. */
function get(port: number) {
  const chunks: string[] = [];
  let ended = false;
  let failed = false;
  const done = new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => chunks.push(chunk));
      res.on('end', () => { ended = true; resolve(); });
      res.on('error', () => { failed = true; resolve(); });
    });
    req.on('error', () => { failed = true; resolve(); });
    req.end();
  });
  return { chunks, done, get ended() { return ended; }, get failed() { return failed; } };
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => { if (condition()) resolve(); else setTimeout(check, 5); };
    check();
  });
}

/** A streaming server behind a proxy in `mode`, both closed when the test ends. */
async function proxied(t: TestContext, mode: FaultMode, options: { seed?: number; chaosCutMs?: [number, number] } = {}) {
  const upstream = await streamingServer();
  const proxy = await startFaultProxy({ targetPort: upstream.port, ...options });
  proxy.setMode(mode);
  t.after(async () => {
    await proxy.close();
    upstream.server.closeAllConnections();
    upstream.server.close();
  });
  return { upstream, proxy, response: get(proxy.port) };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('in pass mode the first chunk of a stream arrives before the stream ends', async (t) => {
  const { upstream, response } = await proxied(t, 'pass');
  await until(() => response.chunks.join('').includes('first;'));
  assert.equal(response.ended, false);
  upstream.release();
  await response.done;
  assert.equal(response.chunks.join(''), 'first;second;');
});

test('in buffer mode nothing of a response arrives until the whole response has', async (t) => {
  const { upstream, response } = await proxied(t, 'buffer');
  await pause(200);
  assert.deepEqual(response.chunks, []);
  upstream.release();
  await response.done;
  assert.equal(response.chunks.join(''), 'first;second;');
});

test('in stall mode the connection stays open and silent', async (t) => {
  const { upstream, proxy, response } = await proxied(t, 'stall');
  upstream.release();
  await pause(200);
  assert.deepEqual(response.chunks, []);
  assert.equal(proxy.openConnections(), 1);
  proxy.cutAll();
  await response.done;
  assert.equal(response.failed, true);
});

test('in chaos mode every connection is cut at a moment drawn from the seed', async (t) => {
  const { proxy, response } = await proxied(t, 'chaos', { seed: 7, chaosCutMs: [10, 50] });
  await response.done;
  assert.equal(response.failed, true);
  assert.equal(proxy.stats.cuts, 1);
});

test('the response splitter finds the end of content-length, chunked and keep-alive responses', () => {
  const responses: string[] = [];
  const splitter = responseSplitter((bytes: Buffer) => responses.push(bytes.toString('latin1')));
  const first = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
  const second = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
  const both = first + second;
  for (const byte of both) splitter.push(Buffer.from(byte, 'latin1'));
  assert.deepEqual(responses, [first, second]);
});
