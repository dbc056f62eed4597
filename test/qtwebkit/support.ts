// The QtWebKit suites' fixture: one Node server that serves a test page (ES5 scripts from
// test/qtwebkit/pages, the built bundles from dist/) and, on the same origin, a reference server
// at /comet; the page runs in QtWebKit 5.212 (scripts/lib/qtwebkit.mjs) and hands its findings
// back when it sets `window.status`. Needs dist/ for the bundles (npm test builds first).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createCometServer, type CometServer } from '../../server/index.ts';
import { runPage } from '../../scripts/lib/qtwebkit.mjs';

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
  close(): Promise<void>;
}

/** Starts the fixture; `cometOptions` configure the same-origin reference server. */
export async function startPageServer(cometOptions: Parameters<typeof createCometServer>[0] = {}): Promise<PageServer> {
  const comet = createCometServer({ path: '/comet', ...cometOptions });
  const configs = new Map<string, string>();
  let pages = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture.invalid');
    if (url.pathname === '/comet' || url.pathname.startsWith('/comet/')) {
      comet.handler(req, res);
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
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await comet.close();
    },
  };
}
