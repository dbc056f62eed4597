// `npm run test:node`: every *.test.ts under test/unit, test/conformance, test/bayeux (the Bayeux
// client against real Faye and CometD servers), test/demo (the demo server), test/package (the
// packed tarball in a fresh app), test/engines (an old engine: QtWebKit through wkhtmltoimage),
// test/proxies (real nginx, HAProxy and Squid in front of the server, Chromium and Firefox), test/qtwebkit
// (the legacy bundle in QtWebKit 5.212) and test/bench (the benchmarks' --quick mode) through node's own
// test runner. Node 20 cannot expand globs in `--test` arguments, so the files are listed here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = process.argv.length > 2 ? process.argv.slice(2) : ['test/unit', 'test/conformance', 'test/bayeux', 'test/demo', 'test/package', 'test/engines', 'test/proxies', 'test/qtwebkit', 'test/bench'];

function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = suites.flatMap((suite) => (suite.endsWith('.ts') ? [suite] : findTests(suite))).sort();
if (files.length === 0) {
  console.error(`test:node: no test files under ${suites.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, [
  '--expose-gc',
  '--import', './test/support/register.mjs',
  '--test', '--test-reporter=spec', '--test-concurrency=2',
  ...files,
], { stdio: 'inherit' });
process.exit(result.status ?? 1);
