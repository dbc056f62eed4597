// The application behind the middleboxes: the reference server at /comet, and the page that runs the
// built client (dist/cometkit.mjs: `npm test` builds before the Node suites) with a small driver the
// test calls through Playwright. Client publishes are recorded per channel, not broadcast, so the
// test can check every upstream message once and in order; each request's forwarding headers are
// counted, which shows that traffic really crossed the proxy.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createCometServer, type CometServer, type CometServerOptions } from '../../server/index.ts';

export interface Backend {
  readonly port: number;
  readonly comet: CometServer;
  /** Payload indexes of client publishes, per channel, in the order the server applied them. */
  upstream(channel: string): number[];
  /** Requests under /comet/ that carried a `Via` header (a forward proxy adds one). */
  readonly viaCount: number;
  /** Reports the server made to onError: configuration problems included. */
  readonly reports: { where: string; message: string }[];
  stop(): Promise<void>;
}

/** The page's driver: one client per run, its events recorded with the page's clock. */
const DRIVER = `import { CometClient } from '/cometkit.mjs';
window.driver = {
  run: null,
  async start({ transport, channel, upChannel, probeTimeoutMs }) {
    const run = { received: [], arrivedAt: [], errors: [], gaps: [], transports: [], states: [], acked: 0, refused: [], ready: false, startedAt: Date.now() };
    this.run = run;
    const client = new CometClient('/comet', {
      transports: transport ? [transport] : undefined,
      shareAcrossTabs: false,
      reconnect: { initialDelayMs: 50, maxDelayMs: 1000 },
      ...(probeTimeoutMs ? { probeTimeoutMs } : {}),
    });
    this.client = client;
    client.on('error', (e) => run.errors.push({ at: Date.now(), type: e.type, code: e.code, status: e.status, transport: e.transport, message: String(e.message).slice(0, 300) }));
    client.on('gap', (gap) => run.gaps.push(gap));
    client.on('transport', ({ name, reason }) => run.transports.push({ at: Date.now(), name, reason }));
    client.on('statechange', ({ state, reason }) => run.states.push({ at: Date.now(), state, reason }));
    client.subscribe(channel, (data) => { run.received.push(data.index); run.arrivedAt.push(Date.now()); });
    this.upChannel = upChannel;
    // Acknowledged once the subscription before it was applied (sends are applied in order).
    await this.publish(1, 1);
    run.ready = true;
  },
  publish(from, to) {
    const sent = [];
    for (let index = from; index <= to; index += 1) {
      sent.push(this.client.publish(this.upChannel, { index }).then(() => { this.run.acked += 1; }, (e) => { this.run.refused.push(String(e.code || e.type)); }));
    }
    return Promise.all(sent);
  },
  snapshot() {
    const { client, run } = this;
    return { ...run, transport: client.transport, state: client.state };
  },
  close() { this.client?.close(); },
};
`;

const PAGE = '<!DOCTYPE html><meta charset="utf-8"><title>cometkit behind a proxy</title><script type="module" src="/driver.mjs"></script>';

export async function startBackend(options: CometServerOptions = {}): Promise<Backend> {
  let bundle: string;
  try {
    bundle = readFileSync(new URL('../../dist/cometkit.mjs', import.meta.url), 'utf8');
  } catch {
    throw new Error('dist/cometkit.mjs is missing: run `npm run build` first (npm test does)');
  }
  const upstream = new Map<string, number[]>();
  const reports: { where: string; message: string }[] = [];
  let viaCount = 0;
  const comet = createCometServer({
    retryMs: 50,
    sessionTimeoutMs: 60000,
    bufferMaxMessages: 10000,
    bufferMaxBytes: 16 * 1024 * 1024,
    ...options,
    onPublish: ({ channel, data }) => {
      let list = upstream.get(channel);
      if (list === undefined) upstream.set(channel, (list = []));
      list.push((data as { index: number }).index);
    },
    onError: (error, where) => { reports.push({ where, message: error instanceof Error ? error.message : String(error) }); },
  });
  const files: Readonly<Record<string, [string, string]>> = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/driver.mjs': ['application/javascript; charset=utf-8', DRIVER],
    '/cometkit.mjs': ['application/javascript; charset=utf-8', bundle],
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/comet/')) {
      if (req.headers.via !== undefined) viaCount += 1;
      comet.handler(req, res);
      return;
    }
    const file = files[path];
    if (file === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-store' }).end(file[1]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    comet,
    upstream: (channel) => upstream.get(channel) ?? [],
    get viaCount() { return viaCount; },
    reports,
    async stop() {
      await comet.close();
      server.closeAllConnections();
      server.close();
    },
  };
}
