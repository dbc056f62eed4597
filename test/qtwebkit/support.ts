// The QtWebKit suites' fixture: one Node server that serves a test page (ES5 scripts from
// test/qtwebkit/pages, the built bundles from dist/) and, on the same origin, a reference server
// at /comet; the page runs in QtWebKit 5.212 (scripts/lib/qtwebkit.mjs) and hands its findings
// back when it sets `window.status`. A page publishes downstream messages through
// `/control/publish` and drives the fault proxies a test registers through `/control/proxy`, on its
// own origin, so that control traffic never crosses a fault proxy.
// Needs dist/ for the bundles (npm test builds first).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createCometServer, type CometServer, type CometServerOptions } from '../../server/index.ts';
import { runPage } from '../../scripts/lib/qtwebkit.mjs';
import type { FaultMode, FaultProxy } from '../support/fault-proxy.mjs';

const root = new URL('../../', import.meta.url);
const FILES: Record<string, [path: string, type: string]> = {
  '/dist/cometkit.legacy.umd.min.js': ['dist/cometkit.legacy.umd.min.js', 'text/javascript'],
  '/dist/cometkit.umd.min.js': ['dist/cometkit.umd.min.js', 'text/javascript'],
};

export interface PageServer {
  /** The server's origin, e.g. `http://127.0.0.1:1234`. */
  origin: string;
  comet: CometServer;
  /**
   * Runs a page that loads `scripts` (paths this server serves, or `pages/NAME.js`) after setting
   * `window.TEST` to `config`, and resolves to what the page left in `window.cometkitResult`.
   */
  run<Result>(scripts: string[], config: unknown, timeoutMs?: number): Promise<Result>;
  /** Lets pages drive `proxy` through /control/proxy?id=ID&do=mode|stall|cut[&mode=...]; returns ID. */
  control(proxy: FaultProxy): string;
  close(): Promise<void>;
}

/** Starts the fixture; `cometOptions` configure the same-origin reference server. */
export async function startPageServer(cometOptions: Parameters<typeof createCometServer>[0] = {}): Promise<PageServer> {
  const comet = createCometServer({ path: '/comet', ...cometOptions });
  const configs = new Map<string, string>();
  const proxies = new Map<string, FaultProxy>();
  let pages = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture.invalid');
    if (url.pathname === '/comet' || url.pathname.startsWith('/comet/')) {
      comet.handler(req, res);
      return;
    }
    if (url.pathname === '/control/publish') {
      // Payload indexes run from `from`, so the bursts of one run carry one unbroken sequence.
      const channel = url.searchParams.get('channel') ?? 'test';
      const from = Number(url.searchParams.get('from') ?? 1);
      const pad = 'x'.repeat(Number(url.searchParams.get('size') ?? 0));
      for (let index = from; index < from + Number(url.searchParams.get('count') ?? 1); index += 1) comet.publish(channel, { index, pad });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end('{}');
      return;
    }
    const proxy = url.pathname === '/control/proxy' ? proxies.get(url.searchParams.get('id') ?? '') : undefined;
    if (proxy) {
      const action = url.searchParams.get('do');
      if (action === 'mode') proxy.setMode(url.searchParams.get('mode') as FaultMode);
      else if (action === 'stall') proxy.stallOpen();
      else if (action === 'cut') proxy.cutAll();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(proxy.stats));
      return;
    }
    const page = /^\/page\/(\d+)$/.exec(url.pathname);
    const file = FILES[url.pathname] ?? (/^\/pages\/[\w-]+\.js$/.test(url.pathname) ? [`test/qtwebkit${url.pathname}`, 'text/javascript'] : undefined);
    if (page && configs.has(page[1]!)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(configs.get(page[1]!));
    } else if (file) {
      res.writeHead(200, { 'Content-Type': `${file[1]}; charset=utf-8`, 'Cache-Control': 'no-store' });
      res.end(readFileSync(new URL(file[0], root)));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    comet,
    async run<Result>(scripts: string[], config: unknown, timeoutMs = 120000) {
      const id = String(++pages);
      // JSON in a script element: `<` escaped so that no string in it can end the element.
      const json = JSON.stringify(config).replace(/</g, '\\u003c');
      configs.set(id, `<!doctype html><html><head><meta charset="utf-8"><title>QtWebKit test</title></head><body>
<script>window.TEST = ${json};</script>
${scripts.map((src) => `<script src="/${src}"></script>`).join('\n')}
</body></html>`);
      const { result } = await runPage(`${origin}/page/${id}`, { timeoutMs });
      return result as Result;
    },
    control(proxy) {
      const id = String(proxies.size + 1);
      proxies.set(id, proxy);
      return id;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await comet.close();
    },
  };
}

/** Quick reconnects keep the runs short; the server's retryMs (50 ms) is the floor anyway. */
export const FAST = {
  probeTimeoutMs: 4000,
  reconnect: { initialDelayMs: 20, maxDelayMs: 250 },
  // An upstream send cut with its connection is given up and retried after this long at most.
  sendTimeoutMs: 3000,
  reprobeMs: 600000,
  shareAcrossTabs: false,
};

/** The reference server of the fault runs: any origin, a one-second heartbeat and poll hold. */
export const FIXTURE_SERVER: CometServerOptions & { heartbeatMs: number; holdMs: number } = {
  allowedOrigins: '*',
  heartbeatMs: 1000,
  holdMs: 1000,
  retryMs: 50,
  // Room for every message of a chaos run, so that a resume never has to report a gap.
  bufferMaxMessages: 10000,
  bufferMaxBytes: 16 * 1024 * 1024,
};

/** What is wrong with `indexes` as 1..expected, each once and in order (empty: nothing). */
export function sequenceProblems(indexes: readonly number[], expected: number): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  indexes.forEach((index, position) => {
    if (seen.has(index)) problems.push(`${index} again at position ${position}`);
    else if (position > 0 && index < indexes[position - 1]!) problems.push(`${index} after ${indexes[position - 1]!}`);
    seen.add(index);
  });
  const missing = [];
  for (let index = 1; index <= expected; index += 1) if (!seen.has(index)) missing.push(index);
  if (missing.length) problems.push(`${missing.length} missing, from ${missing[0]!}`);
  const extra = [...seen].filter((index) => index < 1 || index > expected);
  if (extra.length) problems.push(`unexpected ${extra.slice(0, 5).join(', ')}`);
  return problems.slice(0, 12);
}
