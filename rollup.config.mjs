// Builds the browser client (ESM, UMD, UMD minified), the Bayeux client (`cometkit/bayeux`, ESM,
// an entry of its own so the client bundles do not grow), the reference server and its CLI, and
// the type declarations of all three. The UMD bundles start from the client's script-tag entry
// (src/umd.ts: what a page without a bundler uses), so no server code can reach a browser.
import esbuild from 'rollup-plugin-esbuild';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';

const clientEntry = 'src/index.ts';
const umdEntry = 'src/umd.ts';
const serverEntry = 'server/index.ts';
const bayeuxEntry = 'src/bayeux/index.ts';
const nodeBuiltins = /^node:/;

// es2020: `??`, `?.` and object spread stay native (downlevelling them costs ~4% of the bundle).
// Every engine we test (Chromium, Firefox ESR, WebKitGTK) and every browser since 2020 runs it.
const clientPlugins = () => [esbuild({ target: 'es2020' })];


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
