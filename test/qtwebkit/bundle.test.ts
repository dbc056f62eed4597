// The script-tag bundles in QtWebKit 5.212, a 2016 WebKit (docs/ENGINES-qtwebkit.md): the modern
// bundle does not even parse there; the legacy one (ES5) defines the same `CometKit` global, and
// its classes keep their identity although the engine lacks Reflect.construct.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startPageServer, type PageServer } from './support.ts';

interface Found {
  global: string[] | null;
  error?: { isCometError: boolean; isError: boolean; name: string; type: string; message: string; willRetry: boolean };
  client?: { isCometClient: boolean; state: string; closedState: string };
}

describe('the script-tag bundles in QtWebKit 5.212', () => {
  let fixture: PageServer;
  before(async () => {
    // The engine is installed from Debian if missing, or the run stops (never a skip).
    execFileSync('bash', ['scripts/ensure-browsers.sh'], { stdio: 'inherit', env: { ...process.env, BROWSERS: 'qtwebkit' } });
    fixture = await startPageServer();
  });
  after(() => fixture.close());

  test('the modern bundle does not load: the engine parses no ES2020', async () => {
    const found = await fixture.run<Found>(['dist/cometkit.umd.min.js', 'pages/bundle.js'], {});
    assert.equal(found.global, null);
  });

  test('the legacy bundle defines CometKit, with CometError and CometClient whole', async () => {
    const found = await fixture.run<Found>(['dist/cometkit.legacy.umd.min.js', 'pages/bundle.js'], {});
    assert.deepEqual(found.global, ['CometClient', 'CometError']);
    assert.deepEqual(found.error, { isCometError: true, isError: true, name: 'CometError', type: 'network', message: 'cut', willRetry: true });
    assert.deepEqual(found.client, { isCometClient: true, state: 'connecting', closedState: 'closed' });
  });
});
