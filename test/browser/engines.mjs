// The three engines, each driven the way that works with Debian's builds (the launch options
// below are the recipe; docs/ENGINES.md says what the engines do): Chromium and Firefox ESR
// through Playwright, WebKitGTK through WebKitWebDriver.
import { spawn } from 'node:child_process';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { webdriverLauncher } from '@web/test-runner-webdriver';
import { CHROMIUM_ARGS, CHROMIUM_PATH, FIREFOX_PATH, FIREFOX_PREFS, WEBKIT_CAPABILITIES, WEBKIT_DRIVER, freePort } from '../../scripts/lib/browsers.mjs';

export const ALL_ENGINES = ['chromium', 'firefox', 'webkit'];


/** The engines a run asks for: BROWSERS=chromium,firefox narrows a local run, never a CI run. */
export function wantedEngines(env = process.env) {
  if (env.CI === 'true' || !env.BROWSERS) return ALL_ENGINES;
  const wanted = env.BROWSERS.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = wanted.filter((name) => !ALL_ENGINES.includes(name));
  if (unknown.length > 0) throw new Error(`BROWSERS names unknown engines: ${unknown.join(', ')}`);
  return wanted;
}


async function startWebKitDriver() {
  // WebKitGTK has no headless mode: without a display it hangs rather than failing.
  if (!process.env.DISPLAY) throw new Error('WebKit needs an X display: run the browser tests through scripts/test-browsers.sh, which starts Xvfb');
  const port = await freePort();
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], { stdio: 'ignore' });
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
        launchOptions: { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS },
      }));
    } else if (engine === 'firefox') {
      list.push(playwrightLauncher({
        product: 'firefox',
        launchOptions: {
          // playwright 1.64.1 over WebDriver BiDi; 1.65 needs a command Firefox ESR 153 lacks.
          channel: 'moz-firefox',
          executablePath: FIREFOX_PATH,
          headless: true,
          firefoxUserPrefs: FIREFOX_PREFS,
        },
      }));
    } else if (engine === 'webkit') {
      const port = await startWebKitDriver();
      list.push(webdriverLauncher({
        hostname: '127.0.0.1',
        port,
        path: '/',
        logLevel: 'error',
        capabilities: WEBKIT_CAPABILITIES,
      }));
    }
  }
  return list;
}
