// `npm run size`: raw, minified, gzip and brotli bytes of the full UMD bundle, of its legacy (ES5)
// build, of the six transports
// without cross-tab sharing, of an app that imports only the EventSource transport and of an app
// that imports BayeuxClient (cometkit/bayeux);
// fails when a gzip size passes its budget in package.json ("sizeBudgets", in bytes; 1 KB = 1024 bytes).
// `npm run size -- --modules` also lists, per bundle, the minified bytes each source file takes
// (the apps are then bundled from src/ instead of dist/, the same code with source maps to read).
import { readFile } from 'node:fs/promises';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';
import { bytesPerSource } from './lib/source-bytes.mjs';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8'));
const budgets = pkg.sizeBudgets;
const modules = process.argv.includes('--modules');

function measure(raw, minified) {
  const bytes = Buffer.from(minified);
  return {
    raw: Buffer.byteLength(raw),
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** With --modules: the app's imports of dist/ resolved to the sources they were built from. */
const sources = { '../../dist/cometkit.mjs': 'src/index.ts', '../../dist/bayeux.mjs': 'src/bayeux/index.ts' };
const fromSources = { name: 'from-sources', resolveId: (id) => sources[id] && new URL(sources[id], root).pathname };

/** How an application's bundler minifies it; `umd`: with the settings of our UMD build (rollup.config.mjs). */
const minifiers = {
  app: { compress: { passes: 2 } },
  umd: { ecma: 2020, compress: { passes: 3, unsafe_arrows: true }, mangle: { properties: { regex: /^_/ } } },
};

async function minify(entry, plugins, sourcemap, minifier) {
  const bundle = await rollup({ input: new URL(entry, root).pathname, plugins });
  const { output: [raw] } = await bundle.generate({ format: 'es' });
  const { output: [min] } = await bundle.generate({ format: 'es', sourcemap, plugins: [terser(minifiers[minifier])] });
  await bundle.close();
  return [raw, min];
}

/** Measured as built from dist/; with --modules, bundled again from src/ for the bytes per source file. */
async function bundleApp(entry, minifier = 'app') {
  const [raw, min] = await minify(entry, [nodeResolve()], false, minifier);
  const mapped = modules ? (await minify(entry, [fromSources, esbuild({ target: 'es2020' })], true, minifier))[1] : undefined;
  return { ...measure(raw.code, min.code), code: mapped?.code, map: mapped?.map };
}

const rows = [
  {
    name: 'dist/cometkit.umd.min.js (all six transports and cross-tab sharing)',
    budget: budgets.umdGzipBytes,
    ...measure(await readFile(new URL('dist/cometkit.umd.js', root), 'utf8'), await readFile(new URL('dist/cometkit.umd.min.js', root), 'utf8')),
    code: await readFile(new URL('dist/cometkit.umd.min.js', root), 'utf8'),
    map: JSON.parse(await readFile(new URL('dist/cometkit.umd.min.js.map', root), 'utf8')),
  },
  {
    name: 'dist/cometkit.legacy.umd.min.js (the same, in ES5 for engines before ES2020)',
    budget: budgets.legacyUmdGzipBytes,
    ...measure(await readFile(new URL('dist/cometkit.legacy.umd.js', root), 'utf8'), await readFile(new URL('dist/cometkit.legacy.umd.min.js', root), 'utf8')),
    code: await readFile(new URL('dist/cometkit.legacy.umd.min.js', root), 'utf8'),
    map: JSON.parse(await readFile(new URL('dist/cometkit.legacy.umd.min.js.map', root), 'utf8')),
  },
  {
    name: 'the six transports without cross-tab sharing (UMD minifier)',
    budget: budgets.sixTransportsGzipBytes,
    ...(await bundleApp('scripts/size/six-transports-app.mjs', 'umd')),
  },
  {
    name: 'ESM app importing only the EventSource transport',
    budget: budgets.eventsourceAppGzipBytes,
    ...(await bundleApp('scripts/size/eventsource-app.mjs')),
  },
  {
    name: 'ESM app importing BayeuxClient (cometkit/bayeux)',
    budget: budgets.bayeuxAppGzipBytes,
    ...(await bundleApp('scripts/size/bayeux-app.mjs')),
  },
];

let failed = false;
for (const row of rows) {
  const over = row.gzip > row.budget;
  failed ||= over;
  console.log(`${over ? 'OVER ' : 'ok   '} ${row.name}: raw ${row.raw} B, min ${row.min} B, gzip ${row.gzip} B (budget ${row.budget} B), brotli ${row.brotli} B`);
  if (modules) {
    for (const [source, bytes] of bytesPerSource(row.code, row.map)) console.log(`${String(bytes).padStart(12)} B min  ${source.replace(/^(\.\.\/)+/, '')}`);
  }
}
if (failed) {
  console.error('size: a gzip size is over its budget (package.json "sizeBudgets")');
  process.exit(1);
}
