// The package as a user gets it: `npm pack`, installed offline into a fresh app, then used the
// four ways the README promises (a rollup bundle, a script tag, Node, TypeScript).
// Needs dist/ (npm test builds first) and Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { chromium, type Browser } from 'playwright';
import { APP_PACKAGE, CONSUMER_TS, ESM_HTML, MAIN_JS, SERVE_MJS, UMD_HTML, consumerTsconfig } from './app-files.ts';

const repo = resolve(import.meta.dirname, '../..');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

interface PackInfo { filename: string; files: { path: string }[] }

describe('the packed package, installed into a fresh app', () => {
  let work = '';
  let app = '';
  let packed: PackInfo = { filename: '', files: [] };
  let server: ChildProcess | undefined;
  let origin = '';
  let browser: Browser | undefined;

  before(() => {
    // Chromium runs the pages: installed from Debian if missing, or a clear stop (never a skip).
    execFileSync('bash', ['scripts/ensure-browsers.sh'], { cwd: repo, stdio: 'inherit', env: { ...process.env, BROWSERS: 'chromium', CI: '' } });
    work = mkdtempSync(join(tmpdir(), 'cometkit-package-'));
    const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: repo, encoding: 'utf8' });
    [packed] = JSON.parse(output) as [PackInfo];
    app = join(work, 'app');
    mkdirSync(join(app, 'public'), { recursive: true });
    writeFileSync(join(app, 'package.json'), APP_PACKAGE);
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, packed.filename)], { cwd: app, stdio: 'pipe' });
    for (const [name, text] of [['serve.mjs', SERVE_MJS], ['main.js', MAIN_JS], ['public/esm.html', ESM_HTML], ['public/umd.html', UMD_HTML],
      ['consumer.ts', CONSUMER_TS], ['tsconfig.json', consumerTsconfig(join(repo, 'node_modules/@types'))]] as const) {
      writeFileSync(join(app, name), text);
    }
  });

  after(async () => {
    await browser?.close();
    if (server?.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function startServer(): Promise<string> {
    if (origin) return origin;
    const child = spawn(process.execPath, ['serve.mjs'], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] });
    server = child;
    const [chunk] = await once(child.stdout, 'data') as [Buffer];
    origin = `http://127.0.0.1:${chunk.toString().trim()}`;
    return origin;
  }

  async function received(path: string): Promise<unknown> {
    browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    try {
      await page.goto(`${await startServer()}${path}`);
      const handle = await page.waitForFunction(() => (window as unknown as { received?: unknown }).received, null, { timeout: 20000 });
      return await handle.jsonValue();
    } finally {
      await page.close();
    }
  }

  test('holds only dist/, README, LICENSE and package.json, with self-contained source maps', () => {
    const paths = packed.files.map((file) => file.path);
    for (const path of paths) {
      assert.match(path, /^(dist\/[\w.-]+\.(mjs|js|d\.ts|map)|README\.md|LICENSE|package\.json)$/, `unexpected file in the tarball: ${path}`);
    }
    for (const needed of ['dist/cometkit.mjs', 'dist/cometkit.d.ts', 'dist/cometkit.umd.min.js', 'dist/cometkit.legacy.umd.js', 'dist/cometkit.legacy.umd.min.js', 'dist/server.mjs', 'dist/server.d.ts', 'dist/cli.mjs', 'README.md', 'LICENSE']) {
      assert.ok(paths.includes(needed), `${needed} is missing from the tarball`);
    }
    for (const map of paths.filter((path) => path.endsWith('.map'))) {
      assert.ok(paths.includes(map.slice(0, -'.map'.length)), `${map} has no file beside it`);
      // The sources are not shipped, so a map must carry them to be of any use.
      const parsed = JSON.parse(readFileSync(join(app, 'node_modules/cometkit', map), 'utf8')) as { sources: unknown[]; sourcesContent?: unknown[] };
      assert.equal(parsed.sourcesContent?.length, parsed.sources.length, `${map} lacks sourcesContent`);
    }
  });

  test('has no dependencies, so nothing else is installed with it', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/cometkit/package.json'), 'utf8')) as Record<string, unknown>;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      assert.deepEqual(Object.keys(manifest[field] ?? {}), [], `${field} should be empty`);
    }
    assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.')), ['cometkit']);
  });

  test('cometkit/server imports and serves in Node', async () => {
    const response = await fetch(`${await startServer()}/comet/handshake?v=1`, { method: 'POST' });
    assert.equal(response.status, 200);
    const body = await response.json() as { type: string; v: number };
    assert.equal(body.type, 'handshake');
    assert.equal(body.v, 1);
  });

  test('the ESM import bundles with rollup and receives a message in a browser', async () => {
    const bundle = await rollup({ input: join(app, 'main.js'), plugins: [nodeResolve({ browser: true })], logLevel: 'silent' });
    const { output } = await bundle.generate({ format: 'iife' });
    await bundle.close();
    const code = output[0].code;
    assert.doesNotMatch(code, /node:http|createCometServer/, 'server code reached the browser bundle');
    writeFileSync(join(app, 'public/bundle.js'), code);
    assert.deepEqual(await received('/esm.html'), { data: { text: 'hello through the bundle' }, seq: 1 });
  });

  test('the UMD file works from a script tag', async () => {
    assert.deepEqual(await received('/umd.html'), { data: { text: 'hello through the script tag' }, seq: 1 });
  });

  test('a consumer TypeScript file type-checks against the shipped types', () => {
    try {
      execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const { stdout } = error as { stdout?: string };
      assert.fail(`tsc found errors in the consumer:\n${stdout ?? String(error)}`);
    }
  });
});
