import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import { minify } from 'terser';
import { gzipSync } from 'node:zlib';
const input = process.argv[2];
const b = await rollup({ input, plugins: [esbuild({ target: 'es2020' })] });
const { output: [o] } = await b.generate({ format: 'es' });
const opts = { ecma: 2020, compress: { passes: 3, unsafe_arrows: true }, mangle: { properties: { regex: /^_/ } }, module: true };
const all = (await minify(o.code, opts)).code;
const total = gzipSync(all, { level: 9 }).length;
console.log('total min', all.length, 'gz', total);
// marginal cost: drop each module's code and measure
for (const [id, m] of Object.entries(o.modules)) {
  if (!m.code) continue;
  const mm = (await minify(m.code, { compress: false, mangle: false, module: true }).catch(() => ({ code: m.code }))).code;
  console.log(String(mm.length).padStart(6), id.replace(process.cwd() + '/', ''));
}
