// `npm run compat` writes COMPATIBILITY.md and the README's table from the page's results; this
// holds that report to its format without running any browser (the timings belong to the command).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatTable, engineLabel, withReadmeTable, README_END, README_START } from '../../scripts/lib/compat-report.mjs';

const works = (transport: string, origin: string, streams: boolean) => ({
  transport, origin, works: true, firstFrameMs: 12, latencyMs: 3.5, streams, newRequests: streams ? 0 : 4, error: null,
});

test('names engines by their major version', () => {
  assert.equal(engineLabel('chromium', '156.0.7000.1'), 'Chromium 156');
  assert.equal(engineLabel('firefox', '153.0'), 'Firefox ESR 153');
  assert.equal(engineLabel('webkit', '2.50.4'), 'WebKitGTK 2.50');
  assert.equal(engineLabel('qtwebkit', '5.212.0'), 'QtWebKit 5.212');
});

test('has a row per transport and origin, a column per engine, and old IE as untested', () => {
  const table = compatTable([
    { name: 'chromium', version: '156.0', results: [works('eventsource', 'same', true), works('long-polling', 'cross', false)] },
    { name: 'webkit', version: '2.50.1', results: [{ ...works('multipart', 'same', true), works: false, error: 'network' }] },
    { name: 'firefox', version: '153.0', results: [], error: 'no display' },
  ]);
  const lines = table.split('\n');
  assert.equal(lines.length, 2 + 12);
  assert.equal(lines[0], '| transport | origin | Chromium 156 | WebKitGTK 2.50 | Firefox ESR 153 | Internet Explorer (htmlfile) |');
  assert.match(lines[2]!, /^\| `eventsource` \| same \| works · 12 ms · 3\.5 ms · streams \| not run \| \*\*not run\*\* \(no display\) \| untested \|$/);
  assert.match(table, /\| `multipart` \| same \| not run \| \*\*fails\*\* \(network\) \|/);
  assert.match(table, /\| `long-polling` \| cross \| works · 12 ms · 3\.5 ms · 4 new requests \|/);
});

test('replaces only the README section between its markers', () => {
  const readme = `# title\n\n${README_START}\nold table\n${README_END}\n\n## next\n`;
  const updated = withReadmeTable(readme, [{ name: 'chromium', version: '156', results: [] }], '2026-01-01');
  assert.match(updated, /^# title\n\n<!-- compat:start/);
  assert.doesNotMatch(updated, /old table/);
  assert.match(updated, /compat:end -->\n\n## next\n$/);
  assert.throws(() => withReadmeTable('# no markers', [], '2026-01-01'), /markers/);
});
