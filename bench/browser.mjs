// The engines the browser jobs run in, as Debian ships them and the browser suites drive them
// (scripts/lib/browsers.mjs): headless Chromium and Firefox ESR through playwright, WebKitGTK
// through WebKitWebDriver on an Xvfb display of its own. And the step every browser job starts
// with: a target's page, connected and proven to receive before anything is measured.
import { chromium, firefox } from 'playwright';
import { CHROMIUM_PATH, CHROMIUM_ARGS as PROJECT_CHROMIUM_ARGS, FIREFOX_PATH, FIREFOX_PREFS, openEngine } from '../scripts/lib/browsers.mjs';
import { TARGETS, startTarget } from './targets.mjs';
import { sleep, waitFor } from './stats.mjs';

// The flags every browser run of the project uses (scripts/lib/browsers.mjs), plus three that keep a
// headless page's timers and network from being throttled mid-measurement.
const CHROMIUM_ARGS = [
  ...PROJECT_CHROMIUM_ARGS,
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

/** Playwright's browser as an engine: each page in a context of its own. */
function playwrightEngine(name, browser) {
  return {
    name,
    version: browser.version(),
    async newPage() {
      const context = await browser.newContext();
      return { page: await context.newPage(), close: () => context.close() };
    },
    close: () => (browser.isConnected() ? browser.close() : undefined),
  };
}

/**
 * WebKitGTK's one WebDriver session as an engine: one page at a time, which leaves the target's
 * origin (and its connections) for about:blank when done. No page errors are heard there.
 */
async function webkitEngine() {
  const driver = await openEngine('webkit');
  return {
    name: 'webkit',
    version: driver.version,
    async newPage() {
      const page = { goto: driver.goto, evaluate: driver.evaluate, on: () => undefined };
      return { page, close: () => driver.goto('about:blank') };
    },
    close: driver.close,
  };
}

/**
 * An engine for the browser jobs: { name, version, newPage() -> { page, close }, close }, where
 * `page` has playwright's goto(url), evaluate(fn, arg) and on('pageerror'). Chromium (the jobs
 * that use DevTools need it) with three more flags that keep a headless page's timers and network
 * from being throttled mid-measurement.
 */
export async function launchEngine(name) {
  if (name === 'chromium') return playwrightEngine(name, await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }));
  if (name === 'firefox') {
    // playwright 1.64.1 over WebDriver BiDi; 1.65 needs a command Firefox ESR 153 lacks. Firefox
    // rounds performance.now() to 1 ms (and timeOrigin to whole ms) unless told not to.
    const prefs = { ...FIREFOX_PREFS, 'privacy.reduceTimerPrecision': false };
    return playwrightEngine(name, await firefox.launch({ channel: 'moz-firefox', executablePath: FIREFOX_PATH, headless: true, firefoxUserPrefs: prefs }));
  }
  if (name === 'webkit') return webkitEngine();
  throw new Error(`unknown engine ${name}`);
}

/**
 * Starts `target`'s server, opens its page (at `pagePort`'s origin when a proxy sits between, see
 * the reconnect job), connects, and publishes warm-up messages (i = -1) until one arrives, so the
 * subscription is live. Returns the page, the server and `close()`.
 */
export async function openTarget(engine, target, { cometkitOptions, readable, viaPort, connectTimeoutMs = 20_000 } = {}) {
  const server = await startTarget(target, { cometkitOptions, readable });
  let port = server.port;
  let proxy = null;
  if (viaPort) {
    proxy = await viaPort(server.port);
    port = proxy.port;
  }
  const { page, close: closePage } = await engine.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const close = async () => {
    await closePage().catch(() => {});
    if (proxy) await proxy.close();
    await server.close();
  };
  try {
    await page.goto(`http://127.0.0.1:${port}/bench/page.html`);
    await page.evaluate(() => window.benchConnect());
    await waitFor(async () => {
      server.publish(-1, '');
      await sleep(50);
      return page.evaluate(() => window.bench.warm > 0);
    }, `${target.name} to receive its first message`, connectTimeoutMs, 50);
    // Let the warm-up messages still on their way arrive before measuring.
    await sleep(200);
    const transport = await page.evaluate(() => window.benchTransport());
    return { page, server, proxy, transport, pageErrors, close };
  } catch (error) {
    await close();
    const distinct = [...new Set(pageErrors)];
    throw new Error(`${target.name}: ${error.message}${distinct.length ? ` (page errors: ${distinct.slice(0, 3).join('; ')}${distinct.length > 3 ? '; …' : ''})` : ''}`, { cause: error });
  }
}

/**
 * Publishes `count` messages (numbered from `firstIndex`) of `padBytes` padding, one every
 * `intervalMs` (0: in bursts of `burst` per macrotask, as fast as the server takes them), then
 * waits until the page has them all or `timeoutMs` passes. Returns the page's records.
 */
export async function publishAndCollect(opened, { count, intervalMs, padBytes, timeoutMs, firstIndex = 0, burst = 50, keep = true }) {
  const { page, server } = opened;
  await page.evaluate((keepRecords) => window.bench.reset(keepRecords), keep);
  const padding = 'x'.repeat(padBytes);
  const start = performance.now();
  const deadline = Date.now() + timeoutMs;
  let sent = 0;
  while (sent < count && Date.now() < deadline) {
    const due = intervalMs > 0 ? Math.min(count, Math.floor((performance.now() - start) / intervalMs) + 1) : Math.min(count, sent + burst);
    while (sent < due) server.publish(firstIndex + sent++, padding);
    await new Promise((resolve) => (intervalMs > 0 ? setTimeout(resolve, Math.min(intervalMs, 1)) : setImmediate(resolve)));
  }
  const publishedAt = performance.timeOrigin + start;
  const publishMs = performance.now() - start;
  let received = 0;
  while (Date.now() < deadline) {
    received = await page.evaluate(() => window.bench.n);
    if (received >= count) break;
    await sleep(received > 0 ? 20 : 50);
  }
  const records = await page.evaluate(() => window.bench.take());
  return { ...records, sent, publishedAt, publishMs, timedOut: received < count };
}

/**
 * Opens each named target in turn and yields it; one that cannot connect is logged, gets the row
 * `failed(name, target)` and is skipped. Closing what was yielded is the caller's (in a finally).
 */
export async function* openEach(engine, names, { job, log, rows, failed, ...options }) {
  for (const name of names) {
    const target = TARGETS.find((candidate) => candidate.name === name);
    let opened;
    try {
      opened = await openTarget(engine, target, options);
    } catch (error) {
      log(`${job}: ${error.message}`);
      rows.push(failed(name, target));
      continue;
    }
    yield { name, target, opened };
  }
}
