// @web/test-runner: the browser suites in every engine the run wants (all three unless BROWSERS
// narrows a local run). Started by scripts/test-browsers.sh, which provides the X display WebKit needs.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { launchers, wantedEngines } from './engines.mjs';
import { startFixture } from '../support/fixture.mjs';
import { startBayeuxFixture } from '../support/bayeux-fixture.mjs';

const fixture = await startFixture();
const bayeuxFixture = startBayeuxFixture();

export default {
  files: process.env.WTR_FILES || 'test/browser/**/*.test.ts',
  nodeResolve: true,
  // WebKitWebDriver allows one session at a time; keep every engine alike.
  concurrency: 1,
  browserLogs: true,
  browserStartTimeout: 60000,
  testsStartTimeout: 60000,
  testsFinishTimeout: 300000,
  browsers: await launchers(wantedEngines()),
  plugins: [esbuildPlugin({ ts: true, target: 'es2020' })],
  middleware: [fixture.middleware, bayeuxFixture.middleware],
  testFramework: { config: { timeout: 30000 } },
};
