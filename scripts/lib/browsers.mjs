// Opens one page in each engine the way Debian's builds can be driven here (as
// test/browser/engines.mjs does for the test runner): Chromium and Firefox ESR through
// Playwright, WebKitGTK through WebKitWebDriver on an Xvfb display this module starts and stops
// itself. Used by `npm run compat`, the demo screenshots and the
// package test.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  // Without these Chromium keeps dialling hosts this network refuses.
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--disable-default-apps', '--no-default-browser-check',
];
export const FIREFOX_PATH = '/usr/lib/firefox-esr/firefox-esr';
export const FIREFOX_PREFS = { 'network.http.http3.enable': false, 'app.update.enabled': false };
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const WEBKIT_CAPABILITIES = {
  browserName: 'MiniBrowser',
  // WebKitGTK's driver rejects webSocketUrl:true ("Failed to match capabilities").
  'wdio:enforceWebDriverClassic': true,
  'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Chromium through Playwright, with the flags this network needs. */
export async function launchChromium() {
  const { chromium } = await import('playwright');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A page driver with one interface for every engine:
 * { name, version, goto(url), waitFor(fn, timeoutMs), evaluate(fn, arg), resize(w, h), screenshot(path), close() }.
 * `fn` must be self-contained (it is serialised into the page); `arg`, if any, is JSON-like and
 * passed to it. A promise `fn` returns is awaited, in every engine.
 */
export async function openEngine(name, { width = 1280, height = 900 } = {}) {
  if (name === 'chromium' || name === 'firefox') return openPlaywright(name, width, height);
  if (name === 'webkit') return openWebKit(width, height);
  throw new Error(`unknown engine ${name}`);
}

async function openPlaywright(name, width, height) {
  const playwright = await import('playwright');
  const browser = name === 'chromium'
    ? await launchChromium()
    : await playwright.firefox.launch({
      // playwright 1.64.1 over WebDriver BiDi; 1.65 needs a command Firefox ESR 153 lacks.
      channel: 'moz-firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      firefoxUserPrefs: FIREFOX_PREFS,
    });
  const page = await browser.newPage({ viewport: { width, height } });
  return {
    name,
    version: browser.version(),
    goto: (url) => page.goto(url),
    waitFor: (fn, timeoutMs) => page.waitForFunction(fn, null, { timeout: timeoutMs, polling: 250 }),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    resize: (w, h) => page.setViewportSize({ width: w, height: h }),
    screenshot: (path) => page.screenshot({ path, fullPage: true }),
    close: () => browser.close(),
  };
}

/** Starts Xvfb on a free display; resolves with { display, stop }. */
async function startXvfb() {
  let number = 99;
  while (existsSync(`/tmp/.X${number}-lock`) || existsSync(`/tmp/.X11-unix/X${number}`)) number += 1;
  const xvfb = spawn('/usr/bin/Xvfb', [`:${number}`, '-screen', '0', '1400x1000x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  for (let tries = 0; tries < 50 && !existsSync(`/tmp/.X11-unix/X${number}`); tries += 1) await sleep(100);
  if (!existsSync(`/tmp/.X11-unix/X${number}`)) {
    xvfb.kill('SIGTERM');
    throw new Error(`Xvfb did not start on :${number}`);
  }
  return { display: `:${number}`, stop: () => { if (xvfb.exitCode === null) xvfb.kill('SIGTERM'); } };
}

async function openWebKit(width, height) {
  const { remote } = await import('webdriverio');
  // WebKitGTK has no headless mode: it gets a virtual display of its own (stopped in close()).
  const xvfb = await startXvfb();
  const port = await freePort();
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: xvfb.display } });
  const stopAll = () => {
    if (driver.exitCode === null) driver.kill('SIGTERM');
    xvfb.stop();
  };
  process.once('exit', stopAll);
  try {
    await sleep(500); // the driver binds its port asynchronously
    const browser = await remote({
      hostname: '127.0.0.1',
      port,
      path: '/',
      logLevel: 'error',
      capabilities: WEBKIT_CAPABILITIES,
    });
    await browser.setWindowSize(width, height).catch(() => undefined);
    return {
      name: 'webkit',
      version: String(browser.capabilities.browserVersion ?? ''),
      goto: (url) => browser.url(url),
      waitFor: (fn, timeoutMs) => browser.waitUntil(() => browser.execute(fn), { timeout: timeoutMs, interval: 250 }),
      evaluate: (fn, arg) => browser.execute(fn, arg),
      resize: (w, h) => browser.setWindowSize(w, h),
      screenshot: (path) => browser.saveScreenshot(path),
      close: async () => {
        await browser.deleteSession().catch(() => undefined);
        stopAll();
      },
    };
  } catch (error) {
    stopAll();
    throw error;
  }
}
