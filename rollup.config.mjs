// Builds the browser client (ESM, UMD, UMD minified, and the legacy UMD in ES5), the Bayeux client (`cometkit/bayeux`, ESM,
// an entry of its own so the client bundles do not grow), the reference server and its CLI, and
// the type declarations of all three. The UMD bundles start from the client's script-tag entry
// (src/umd.ts: what a page without a bundler uses), so no server code can reach a browser.
import esbuild from 'rollup-plugin-esbuild';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { babel } from '@rollup/plugin-babel';
import inject from '@rollup/plugin-inject';

const clientEntry = 'src/index.ts';
const umdEntry = 'src/umd.ts';
const serverEntry = 'server/index.ts';
const bayeuxEntry = 'src/bayeux/index.ts';
const nodeBuiltins = /^node:/;

// es2020: `??`, `?.` and object spread stay native (downlevelling them costs ~4% of the bundle).
// Every engine we test (Chromium, Firefox ESR, WebKitGTK) and every browser since 2020 runs it.
const clientPlugins = () => [esbuild({ target: 'es2020' })];

// The legacy bundle: the same entry, API and `CometKit` global in ES5 syntax, for the engines that
// parse no ES2020 (QtWebKit 5.212, Safari and iOS before 14, old Android WebViews). esbuild strips
// the types as for the modern bundles; Babel 7 (the maintained line that runs on Node 20; Babel 8
// needs Node 22) lowers the rest to ES5. The page's scope as the default platform replaces
// `globalThis` in src/core.ts at build time (src/legacy/platform.ts), so the modern bundles carry
// none of this. Each Babel assumption holds for this code and shortens the output:
// noDocumentAll (no `document.all` meets `?.`/`??`), pureGetters (the client's getters only read),
// setSpreadProperties and objectRestNoSymbols (plain option objects, no symbol keys),
// ignoreToPrimitiveHint (template literals join strings and numbers), skipForOfIteratorClosing
// (for-of runs over arrays, Maps and Sets, which need no closing), ignoreFunctionLength.
export const legacyAssumptions = {
  noDocumentAll: true, pureGetters: true, setSpreadProperties: true, objectRestNoSymbols: true,
  ignoreToPrimitiveHint: true, skipForOfIteratorClosing: true, ignoreFunctionLength: true,
};
const legacyPlugins = () => [
  esbuild({ target: 'es2020' }),
  inject({ include: 'src/core.ts', globalThis: [new URL('src/legacy/platform.ts', import.meta.url).pathname, 'pageScope'] }),
  babel({
    babelHelpers: 'bundled',
    babelrc: false,
    configFile: false,
    extensions: ['.ts', '.js'],
    assumptions: legacyAssumptions,
    // IE 11 stands for "ES5 syntax": every later construct is lowered.
    presets: [['@babel/preset-env', { targets: { ie: '11' }, bugfixes: true, modules: false }]],
  }),
];


export default [
  {
    input: clientEntry,
    output: { file: 'dist/cometkit.mjs', format: 'es', sourcemap: true },
    plugins: clientPlugins(),
  },
  {
    input: umdEntry,
    output: [
      { file: 'dist/cometkit.umd.js', format: 'umd', name: 'CometKit', sourcemap: true },
      {
        file: 'dist/cometkit.umd.min.js',
        format: 'umd',
        name: 'CometKit',
        sourcemap: true,
        // `_`-prefixed members are internal throughout the client bundle, so they mangle safely.
        plugins: [terser({ ecma: 2020, compress: { passes: 3, unsafe_arrows: true }, mangle: { properties: { regex: /^_/ } } })],
      },
    ],
    plugins: clientPlugins(),
  },
  {
    input: umdEntry,
    output: [
      { file: 'dist/cometkit.legacy.umd.js', format: 'umd', name: 'CometKit', sourcemap: true },
      {
        file: 'dist/cometkit.legacy.umd.min.js',
        format: 'umd',
        name: 'CometKit',
        sourcemap: true,
        plugins: [terser({ ecma: 5, compress: { passes: 3 }, mangle: { properties: { regex: /^_/ } } })],
      },
    ],
    plugins: legacyPlugins(),
  },
  {
    // Self-contained: it carries the pieces of the core it uses (CometClientCore, backoff, negotiator, pool).
    input: bayeuxEntry,
    output: { file: 'dist/bayeux.mjs', format: 'es', sourcemap: true },
    plugins: clientPlugins(),
  },
  {
    input: serverEntry,
    external: [nodeBuiltins],
    output: { file: 'dist/server.mjs', format: 'es', sourcemap: true },
    plugins: [esbuild({ target: 'node20' })],
  },
  {
    // The CLI imports the server as the package's own ./server.mjs, so the server is built once.
    input: 'server/cli.ts',
    external: (id) => nodeBuiltins.test(id) || id.endsWith('/server/index.ts'),
    output: {
      file: 'dist/cli.mjs',
      format: 'es',
      sourcemap: true,
      banner: '#!/usr/bin/env node',
      paths: (id) => (id.endsWith('/server/index.ts') ? './server.mjs' : id),
    },
    plugins: [esbuild({ target: 'node20' })],
  },
  {
    input: clientEntry,
    output: { file: 'dist/cometkit.d.ts', format: 'es' },
    plugins: [dts()],
  },
  {
    input: bayeuxEntry,
    output: { file: 'dist/bayeux.d.ts', format: 'es' },
    plugins: [dts()],
  },
  {
    input: serverEntry,
    external: [nodeBuiltins],
    output: { file: 'dist/server.d.ts', format: 'es' },
    plugins: [dts()],
  },
];
