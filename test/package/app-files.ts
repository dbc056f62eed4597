// The files of the throwaway consumer app the package test installs the tarball into: a Node
// server that imports `cometkit/server`, a page bundled by rollup from `import 'cometkit'`, a page
// that loads the UMD file by script tag, and a TypeScript file checked against the shipped types.

export const APP_PACKAGE = JSON.stringify({ name: 'cometkit-consumer', private: true, type: 'module' });

/** Serves the pages and the reference server; prints its port once listening. */
export const SERVE_MJS = `
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createCometServer } from 'cometkit/server';

const comet = createCometServer();
const files = {
  '/esm.html': ['public/esm.html', 'text/html'],
  '/bundle.js': ['public/bundle.js', 'text/javascript'],
  '/umd.html': ['public/umd.html', 'text/html'],
  '/cometkit.umd.min.js': ['node_modules/cometkit/dist/cometkit.umd.min.js', 'text/javascript'],
};
const server = createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  if (pathname.startsWith('/comet/')) return comet.handler(req, res);
  const file = files[pathname];
  if (!file) { res.writeHead(404); return res.end(); }
  res.writeHead(200, { 'Content-Type': file[1] });
  res.end(readFileSync(file[0]));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => { void comet.close(); server.closeAllConnections(); server.close(() => process.exit(0)); });
`;

/** The page's code as an application writes it; rollup bundles it from the installed package. */
export const MAIN_JS = `
import { CometClient } from 'cometkit';

const client = new CometClient('/comet');
client.subscribe('news', (data, { seq }) => { window.received = { data, seq }; });
void client.publish('news', { text: 'hello through the bundle' });
`;

export const ESM_HTML = '<!doctype html><meta charset="utf-8"><title>esm</title><script src="/bundle.js"></script>';

export const UMD_HTML = `<!doctype html><meta charset="utf-8"><title>umd</title>
<script src="/cometkit.umd.min.js"></script>
<script>
  const client = new CometKit.CometClient('/comet');
  client.subscribe('news', (data, { seq }) => { window.received = { data, seq }; });
  void client.publish('news', { text: 'hello through the script tag' });
</script>`;

/** Uses the public API with its types; a wrong type anywhere here fails the check. */
export const CONSUMER_TS = `
import { CometClient, CometError, type CometState, type TransportName } from 'cometkit';
import { createCometServer, type CometServerOptions, type SubscribeContext } from 'cometkit/server';

const options: CometServerOptions = {
  heartbeatMs: 5000,
  allowedOrigins: ['https://app.example.com'],
  onSubscribe: ({ channel, session }: SubscribeContext) => { console.log(channel, session.id); },
};
const server = createCometServer(options);
const reached: number = server.publish('news', { text: 'hi' });

const transports: TransportName[] = ['eventsource', 'long-polling'];
const client = new CometClient('https://push.example.com/comet', { transports, probeTimeoutMs: 3000 });
const subscription = client.subscribe('news', (data: unknown, { channel, seq }) => {
  const name: string = channel;
  const position: number = seq;
  console.log(name, position, data, reached);
});
const sent: Promise<void> = client.publish('news', { text: 'hi' });
client.on('error', (error) => {
  const failure: CometError = error;
  console.log(failure.type, failure.willRetry, failure instanceof CometError);
});
client.on('statechange', ({ state }) => { const current: CometState = state; console.log(current); });
subscription.unsubscribe();
void sent;
// @ts-expect-error a transport the package does not have is refused by the types
new CometClient('/comet', { transports: ['websocket'] });
`;

export function consumerTsconfig(typeRoots: string): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM'],
      types: ['node'],
      typeRoots: [typeRoots],
      strict: true,
      noEmit: true,
      // The shipped declarations are checked too.
      skipLibCheck: false,
    },
    files: ['consumer.ts'],
  });
}
