// Builds the browser client (ESM, UMD, UMD minified, and the legacy UMD in ES5), the Bayeux client (`cometkit/bayeux`, ESM,
// an entry of its own so the client bundles do not grow), the reference server and its CLI, and
// the type declarations of all three. The UMD bundles start from the client's script-tag entry
// (src/umd.ts: what a page without a bundler uses), so no server code can reach a browser.
import esbuild from 'rollup-plugin-esbuild';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { babel } from '@rollup/plugin-babel';
import inject from '@rollup/plugin-inject';
import { dirname, resolve } from 'node:path';

const clientEntry = 'src/index.ts';
const umdEntry = 'src/umd.ts';
const legacyUmdEntry = 'src/legacy/umd.ts';
const serverEntry = 'server/index.ts';
const bayeuxEntry = 'src/bayeux/index.ts';
const nodeBuiltins = /^node:/;

// es2020: `??`, `?.` and object spread stay native (downlevelling them costs ~4% of the bundle).
// Every engine we test (Chromium, Firefox ESR, WebKitGTK) and every browser since 2020 runs it.
const clientPlugins = () => [esbuild({ target: 'es2020' })];

// The legacy bundle (src/legacy/umd.ts): the same API and `CometKit` global in ES5 syntax, for the
// engines that parse no ES2020 (QtWebKit 5.212, Safari and iOS before 13.1, old Android WebViews).
// esbuild strips the types as for the modern bundles; Babel 7 (the maintained line that runs on
// Node 20; Babel 8 needs Node 22) lowers the rest to ES5. At build time the legacy platform
// (src/legacy/platform.ts) replaces `globalThis`, the client's default platform, and the global
// `AbortController`, and the legacy choice of body reader (src/legacy/body-reader.ts, with the XHR
// reader) replaces the module transports/body/choice.ts, so the modern bundles carry none of it. Each Babel assumption holds for this
// code and shortens the output: noDocumentAll (no `document.all` meets `?.`/`??`), pureGetters
// (the client's getters only read), setSpreadProperties and objectRestNoSymbols (plain option
// objects, no symbol keys), ignoreToPrimitiveHint (template literals join strings and numbers),
// skipForOfIteratorClosing (for-of runs over arrays, Maps and Sets, which need no closing),
// ignoreFunctionLength; setClassMethods, noClassCalls, constantSuper and
// superIsCallableConstructor (classes are only constructed with `new`, their parents never
// change, and a parent called as a function fills in `this`: `CometError`'s parent is
// src/legacy/error.ts in place of `Error`, which makes a new object when so called;
// test/qtwebkit checks `instanceof` in QtWebKit, which lacks Reflect.construct).
export const legacyAssumptions = {
  noDocumentAll: true, pureGetters: true, setSpreadProperties: true, objectRestNoSymbols: true,
  ignoreToPrimitiveHint: true, skipForOfIteratorClosing: true, ignoreFunctionLength: true,
  setClassMethods: true, noClassCalls: true, constantSuper: true, superIsCallableConstructor: true,
};
const sourcePath = (path) => new URL(path, import.meta.url).pathname;
const legacyPlatform = sourcePath('src/legacy/platform.ts');
/** A module of the legacy build in place of the modern one, wherever it is imported from. */
const legacyModules = { [sourcePath('transports/body/choice.ts')]: sourcePath('src/legacy/body-reader.ts') };
const substituteModules = (modules) => ({
  name: 'legacy-modules',
  resolveId: (source, importer) => (importer && source.startsWith('.') && modules[resolve(dirname(importer), source)]) || null,
});
const legacyPlugins = () => [
  substituteModules(legacyModules),
  esbuild({ target: 'es2020' }),
  inject({
    include: ['src/**', 'transports/**'],
    exclude: 'src/legacy/**',
    globalThis: [legacyPlatform, 'pageScope'],
    AbortController: [legacyPlatform, 'LegacyAbortController'],
  }),
  inject({ include: 'src/errors.ts', Error: [sourcePath('src/legacy/error.ts'), 'LegacyError'] }),
  babel({
    babelHelpers: 'bundled',
    babelrc: false,
    configFile: false,
    extensions: ['.ts', '.js'],
    assumptions: legacyAssumptions,
    // Array destructuring read by index (`x[0]`): every array pattern in src/ and transports/
    // takes an array (tuples, Map entries, structured-cloned messages), never a Set or an
    // iterator. Spread and for-of keep their iterator protocol (`[...set]` is common).
    plugins: [['@babel/plugin-transform-destructuring', { loose: true }]],
    // IE 11 stands for "ES5 syntax": every later construct is lowered.
    presets: [['@babel/preset-env', { targets: { ie: '11' }, bugfixes: true, modules: false, exclude: ['@babel/plugin-transform-destructuring'] }]],
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
    input: legacyUmdEntry,
    output: [
      { file: 'dist/cometkit.legacy.umd.js', format: 'umd', name: 'CometKit', sourcemap: true },
      {
        file: 'dist/cometkit.legacy.umd.min.js',
        format: 'umd',
        name: 'CometKit',
        sourcemap: true,
        // pure_getters, as Babel's pureGetters: no property read of this code has a side effect.
        plugins: [terser({ ecma: 5, compress: { passes: 3, pure_getters: true }, mangle: { properties: { regex: /^_/ } } })],
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
