import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import terser from '@rollup/plugin-terser';
import { gzipSync } from 'node:zlib';
export async function size(code) {
  const virt = { name: 'v', resolveId: (id) => id == 'entry' ? id : null, load: (id) => id == 'entry' ? code : null };
  const bundle = await rollup({ input: 'entry', plugins: [virt, esbuild({ target: 'es2020' })], onwarn() {} });
  const { output: [min] } = await bundle.generate({ format: 'umd', name: 'X', plugins: [terser({ ecma: 2020, compress: { passes: 3, unsafe_arrows: true }, mangle: { properties: { regex: /^_/ } } })] });
  return [min.code.length, gzipSync(min.code, { level: 9 }).length];
}
const exportsAll = `export * from './src/index.ts';`;
console.log('full', await size(exportsAll));
console.log('client only (CometClient)', await size(`export { CometClient } from './src/index.ts';`));
console.log('core+6 transports+negotiator+batching+lifecycle, no pool/crosstab', await size(`import { CometClientCore, createNegotiator, batchMessages, pageLifecycle, eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp } from './src/index.ts'; export const c = (u) => new CometClientCore(u, { transports: [eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp], negotiator: createNegotiator, batching: batchMessages, lifecycle: pageLifecycle });`));
console.log('+ sharedConnections', await size(`import { CometClientCore, sharedConnections, createNegotiator, batchMessages, pageLifecycle, eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp } from './src/index.ts'; export const c = (u) => new CometClientCore(u, { connect: sharedConnections, transports: [eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp], negotiator: createNegotiator, batching: batchMessages, lifecycle: pageLifecycle });`));
