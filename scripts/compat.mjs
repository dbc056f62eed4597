// `npm run compat`: runs the demo's compatibility page headless in Chromium, Firefox ESR,
// WebKitGTK and QtWebKit 5.212 (BROWSERS=chromium,firefox narrows a local run, whose table then
// has those columns only), then writes COMPATIBILITY.md, the README's copy of its table, and a
// screenshot of each engine's page under docs/. QtWebKit runs the page with the legacy bundle
// (it has no modules) through scripts/lib/qtwebkit.mjs, which has no driver protocol: the page
// sets `window.status` when done, and the results are read then.
// Needs the build (npm run compat builds first) and the engines (scripts/ensure-browsers.sh).
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { startDemo } from '../demo/app.mjs';
import { openEngine } from './lib/browsers.mjs';
import { qtwebkitVersion, runPage } from './lib/qtwebkit.mjs';
import { compatibilityMarkdown, engineLabel, withReadmeTable } from './lib/compat-report.mjs';

const ALL = ['chromium', 'firefox', 'webkit', 'qtwebkit'];
const engines = process.env.BROWSERS ? process.env.BROWSERS.split(',').map((name) => name.trim()).filter(Boolean) : ALL;
const PAGE_TIMEOUT_MS = 240000;

const demo = await startDemo({ port: 0 });
const runs = [];
const screenshots = [];
mkdirSync('docs', { recursive: true });
try {
  for (const name of engines) {
    process.stdout.write(`compat: ${name}… `);
    const started = Date.now();
    let driver;
    try {
      const path = `docs/compat-${name}.png`;
      let page;
      if (name === 'qtwebkit') {
        driver = { version: qtwebkitVersion(), close: async () => undefined };
        ({ result: page } = await runPage(`${demo.url}compat.html`, { screenshot: path, result: 'JSON.stringify(window.cometkitCompat)', timeoutMs: PAGE_TIMEOUT_MS }));
      } else {
        driver = await openEngine(name, { width: 1280, height: 900 });
        await driver.goto(`${demo.url}compat.html`);
        await driver.waitFor(() => window.cometkitCompat?.done === true, PAGE_TIMEOUT_MS);
        page = await driver.evaluate(() => window.cometkitCompat);
        await driver.screenshot(path);
      }
      screenshots.push({ label: engineLabel(name, driver.version), path });
      runs.push({ name, version: driver.version, results: page.results, userAgent: page.userAgent, bundle: page.bundle });
      const working = page.results.filter((result) => result.works).length;
      process.stdout.write(`${engineLabel(name, driver.version)}: ${working}/${page.results.length} work (${Math.round((Date.now() - started) / 1000)} s)\n`);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      runs.push({ name, version: driver?.version, results: [], error: message });
      process.stdout.write(`failed: ${message}\n`);
    } finally {
      await driver?.close().catch(() => undefined);
    }
  }
} finally {
  await demo.close();
}

const date = new Date().toISOString().slice(0, 10);
const machine = `${process.platform} ${process.arch}, ${cpus().length} cores, Node ${process.versions.node}`;
writeFileSync('COMPATIBILITY.md', compatibilityMarkdown(runs, { date, machine, screenshots }));
writeFileSync('README.md', withReadmeTable(readFileSync('README.md', 'utf8'), runs, date));
process.stdout.write('compat: wrote COMPATIBILITY.md, the README table and docs/compat-*.png\n');
if (runs.some((run) => run.error)) process.exitCode = 1;
