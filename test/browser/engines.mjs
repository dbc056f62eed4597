// The three engines, each driven the way that works with Debian's builds (see BROWSERS.md in the
// shared notes): Chromium and Firefox ESR through Playwright, WebKitGTK through WebKitWebDriver.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { webdriverLauncher } from '@web/test-runner-webdriver';

export const ALL_ENGINES = ['chromium', 'firefox', 'webkit'];

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  // Without these Chromium keeps dialling hosts this network refuses.
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--disable-default-apps', '--no-default-browser-check',
];

/** The engines a run asks for: BROWSERS=chromium,firefox narrows a local run, never a CI run. */
export function wantedEngines(env = process.env) {
  if (env.CI === 'true' || !env.BROWSERS) return ALL_ENGINES;
  const wanted = env.BROWSERS.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = wanted.filter((name) => !ALL_ENGINES.includes(name));
  if (unknown.length > 0) throw new Error(`BROWSERS names unknown engines: ${unknown.join(', ')}`);
  return wanted;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startWebKitDriver() {
  // WebKitGTK has no headless mode: without a display it hangs rather than failing.
  if (!process.env.DISPLAY) throw new Error('WebKit needs an X display: run the browser tests through scripts/test-browsers.sh, which starts Xvfb');
  const port = await freePort();
  const driver = spawn('/usr/bin/WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore' });
  const stop = () => { if (driver.exitCode === null) driver.kill('SIGTERM'); };
  process.on('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { stop(); process.exit(130); });
  await new Promise((resolve) => setTimeout(resolve, 500)); // the driver binds its port asynchronously
  return port;
}

export async function launchers(engines) {
  const list = [];
  for (const engine of engines) {
    if (engine === 'chromium') {
      list.push(playwrightLauncher({
        product: 'chromium',
        launchOptions: { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS },
      }));
    } else if (engine === 'firefox') {
      list.push(playwrightLauncher({
        product: 'firefox',
        launchOptions: {
          // playwright 1.64.1 over WebDriver BiDi; 1.65 needs a command Firefox ESR 153 lacks.
          channel: 'moz-firefox',
          executablePath: '/usr/lib/firefox-esr/firefox-esr',
          headless: true,
          firefoxUserPrefs: { 'network.http.http3.enable': false, 'app.update.enabled': false },
        },
      }));
    } else if (engine === 'webkit') {
      const port = await startWebKitDriver();
      list.push(webdriverLauncher({
        hostname: '127.0.0.1',
        port,
        path: '/',
        logLevel: 'error',
        capabilities: {
          browserName: 'MiniBrowser',
          // WebKitGTK's driver rejects webSocketUrl:true ("Failed to match capabilities").
          'wdio:enforceWebDriverClassic': true,
          'webkitgtk:browserOptions': {
            binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
            args: ['--automation'],
          },
        },
      }));
    }
  }
  return list;
}
