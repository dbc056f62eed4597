// Size: raw, minified, gzip (level 9) and brotli (quality 11) bytes of each client's browser
// bundle, measured exactly as `npm run size` measures cometkit's, and the transports each carries.
import { readFile } from 'node:fs/promises';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { build } from 'esbuild';
import { table, fmt } from './stats.mjs';

const root = new URL('../', import.meta.url);
const read = (path) => readFile(new URL(path, root), 'utf8');
const version = async (name) => JSON.parse(await read(`node_modules/${name}/package.json`)).version;

function measure(raw, minified) {
  const bytes = Buffer.from(minified);
  return {
    raw: raw === null ? null : Buffer.byteLength(raw),
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** The EventSource-only app of `npm run size`, bundled and minified the same way. */
async function eventsourceApp() {
  const bundle = await rollup({ input: new URL('scripts/size/eventsource-app.mjs', root).pathname, plugins: [nodeResolve()] });
  const { output: [raw] } = await bundle.generate({ format: 'es' });
  const { output: [min] } = await bundle.generate({ format: 'es', plugins: [terser({ compress: { passes: 2 } })] });
  await bundle.close();
  return measure(raw.code, min.code);
}

/** cometd ships ES modules, no browser bundle: its package entry bundled by esbuild, as an app would. */
async function cometdBundle(minify) {
  const result = await build({
    stdin: { contents: "export * from 'cometd';", resolveDir: root.pathname },
    bundle: true, minify, format: 'esm', write: false, target: 'es2020',
  });
  return result.outputFiles[0].text;
}

export async function run({ log }) {
  const entries = [
    {
      name: 'cometkit: dist/cometkit.umd.min.js (CometClient)', ours: true,
      transports: 'eventsource, xhr-streaming, multipart, iframe (htmlfile), long-polling, jsonp',
      sizes: measure(await read('dist/cometkit.umd.js'), await read('dist/cometkit.umd.min.js')),
    },
    {
      name: 'cometkit: EventSource-only app (CometClientCore + eventsource, as `npm run size`)', ours: true,
      transports: 'eventsource', sizes: await eventsourceApp(),
    },
    {
      name: `sockjs-client ${await version('sockjs-client')}: dist/sockjs.min.js`,
      transports: 'websocket, xhr-streaming, xdr-streaming, eventsource, iframe-eventsource, htmlfile, iframe-htmlfile, xhr-polling, xdr-polling, iframe-xhr-polling, jsonp-polling',
      sizes: measure(await read('node_modules/sockjs-client/dist/sockjs.js'), await read('node_modules/sockjs-client/dist/sockjs.min.js')),
    },
    {
      name: `socket.io-client ${await version('socket.io-client')}: dist/socket.io.min.js`,
      transports: 'polling (XHR), websocket, webtransport',
      sizes: measure(await read('node_modules/socket.io-client/dist/socket.io.js'), await read('node_modules/socket.io-client/dist/socket.io.min.js')),
    },
    {
      name: `faye ${await version('faye')}: client/faye-browser-min.js`,
      transports: 'websocket, eventsource, long-polling, cross-origin-long-polling, callback-polling (JSONP)',
      sizes: measure(await read('node_modules/faye/client/faye-browser.js'), await read('node_modules/faye/client/faye-browser-min.js')),
    },
    {
      name: `cometd ${await version('cometd')}: package entry bundled by esbuild (no shipped bundle)`,
      transports: 'websocket, long-polling, callback-polling (JSONP); extensions included',
      sizes: measure(await cometdBundle(false), await cometdBundle(true)),
    },
    {
      name: `centrifuge ${await version('centrifuge')}: dist/centrifuge.js (ships minified only)`,
      transports: 'websocket, http_stream, sse, webtransport (bidirectional emulation needs its server)',
      sizes: measure(null, await read('node_modules/centrifuge/dist/centrifuge.js')),
    },
  ];
  log(`size: ${entries.length} bundles measured`);
  const rows = entries.map((entry) => [entry.name, entry.sizes.raw ?? '—', entry.sizes.min, entry.sizes.gzip, entry.sizes.brotli, entry.transports]);
  const full = entries[0].sizes;
  const peers = entries.filter((entry) => !entry.ours);
  const smallest = peers.reduce((a, b) => (a.sizes.gzip <= b.sizes.gzip ? a : b));
  const findings = [
    `${full.gzip < smallest.sizes.gzip ? 'WIN' : 'LOSS'}: cometkit with all six transports is ${fmt(full.gzip, 0)} B gzip; the smallest peer bundle is ${smallest.name.split(':')[0]} at ${fmt(smallest.sizes.gzip, 0)} B gzip (${fmt(smallest.sizes.gzip / full.gzip, 1)}×). Target: smaller than every peer's smallest bundle.`,
    ...peers.map((peer) => `${full.brotli < peer.sizes.brotli ? 'WIN' : 'LOSS'} (brotli): cometkit ${fmt(full.brotli, 0)} B vs ${peer.name.split(':')[0]} ${fmt(peer.sizes.brotli, 0)} B.`),
  ];
  return {
    title: 'Size of the browser bundle',
    only: 'size',
    method: [
      'Bytes. "min" is the minified file each package ships (cometd: esbuild --minify of its package entry; cometkit: dist/ from `npm run build`); "raw" its unminified counterpart where the package ships one. gzip level 9 and brotli quality 11 of the minified file, as `npm run size` does.',
      'Transports are those each bundle carries (from its source), not only those benchmarked. The raw EventSource floor costs 0 bytes (built into the browser).',
    ],
    tables: [table(['bundle', 'raw', 'min', 'gzip', 'brotli', 'transports carried'], rows)],
    findings,
    data: Object.fromEntries(entries.map((entry) => [entry.name, entry.sizes])),
  };
}
