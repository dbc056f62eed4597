// Headless Chromium from Debian, driven by playwright with the flags the browser suites use
// (scripts/lib/browsers.mjs), and the step every browser job starts with: a target's page,
// connected and proven to receive before anything is measured.
import { chromium } from 'playwright';
import { CHROMIUM_PATH, CHROMIUM_ARGS as PROJECT_CHROMIUM_ARGS } from '../scripts/lib/browsers.mjs';
import { TARGETS, startTarget } from './targets.mjs';
import { sleep, waitFor } from './stats.mjs';

// The flags every browser run of the project uses (scripts/lib/browsers.mjs), plus three that keep a
// headless page's timers and network from being throttled mid-measurement.
const CHROMIUM_ARGS = [
  ...PROJECT_CHROMIUM_ARGS,
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Starts `target`'s server, opens its page (at `pagePort`'s origin when a proxy sits between, see
 * the reconnect job), connects, and publishes warm-up messages (i = -1) until one arrives, so the
 * subscription is live. Returns the page, the server and `close()`.
 */
export async function openTarget(browser, target, { cometkitOptions, viaPort, connectTimeoutMs = 20_000 } = {}) {
  const server = await startTarget(target, { cometkitOptions });
  let port = server.port;
  let proxy = null;
  if (viaPort) {
    proxy = await viaPort(server.port);
    port = proxy.port;
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const close = async () => {
    await context.close().catch(() => {});
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
    throw new Error(`${target.name}: ${error.message}${pageErrors.length ? ` (page errors: ${pageErrors.join('; ')})` : ''}`, { cause: error });
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
export async function* openEach(browser, names, { job, log, rows, failed, ...options }) {
  for (const name of names) {
    const target = TARGETS.find((candidate) => candidate.name === name);
    let opened;
    try {
      opened = await openTarget(browser, target, options);
    } catch (error) {
      log(`${job}: ${error.message}`);
      rows.push(failed(name, target));
      continue;
    }
    yield { name, target, opened };
  }
}
