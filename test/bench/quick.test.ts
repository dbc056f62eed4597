// `npm run bench -- --quick` runs whole and writes a well-formed report. No timing is asserted
// here: a loaded CI machine may be slow, and benchmarks are not tests. The full run is `npm run bench`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Section { title: string; only: string; tables?: string[]; failed?: boolean; error?: string }
interface Report { quick: boolean; seconds: number; sections: Section[] }

const hasChromium = existsSync('/usr/bin/chromium');
const jobs = hasChromium ? ['size', 'latency', 'throughput', 'reconnect', 'memory', 'takeover', 'fanout'] : ['size', 'fanout'];

/** The cells of a Markdown table row, with escaped pipes kept inside their cell. */
function cells(line: string): string[] {
  return line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim());
}

function runQuick(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bench/run.mjs', '--quick', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

void test(`the quick bench runs ${jobs.join(', ')} to the end and writes well-formed rows${hasChromium ? '' : ' (no /usr/bin/chromium: browser jobs left out)'}`, { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cometkit-bench-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'BENCHMARKS.md');
  const json = join(dir, 'bench.json');
  const { code, output } = await runQuick([`--only=${jobs.join(',')}`, `--out=${out}`, `--json=${json}`], 170_000);
  assert.equal(code, 0, `the quick bench exited with ${code}:\n${output}`);

  const report = JSON.parse(await readFile(json, 'utf8')) as Report;
  assert.equal(report.quick, true);
  assert.deepEqual(report.sections.map((section) => section.only), jobs);
  for (const section of report.sections) {
    assert.ok(!section.failed, `${section.only} failed: ${section.error ?? ''}`);
    assert.ok((section.tables ?? []).length > 0, `${section.only} has no table`);
  }

  const markdown = await readFile(out, 'utf8');
  assert.match(markdown, /^# Benchmarks/);
  assert.match(markdown, /CPU: .+, \d+ cores; RAM: [\d.]+ GiB/);
  assert.match(markdown, /Node v\d+/);
  if (hasChromium) assert.match(markdown, /## Cross-tab takeover/);
  const lines = markdown.split('\n');
  let tables = 0;
  for (let index = 0; index < lines.length; index++) {
    if (!lines[index]!.startsWith('| ') || !lines[index + 1]?.startsWith('| ---')) continue;
    tables += 1;
    const header = cells(lines[index]!);
    let rows = 0;
    for (let row = index + 2; lines[row]?.startsWith('|'); row++) {
      rows += 1;
      const line = lines[row]!;
      const values = cells(line);
      assert.equal(values.length, header.length, `a row with ${values.length} cells under ${header.length} columns: ${line}`);
      assert.ok(values.every((value) => value !== ''), `an empty cell: ${line}`);
      assert.ok(!/failed|NaN|undefined/.test(line), `a row that did not measure: ${line}`);
      assert.ok(values.slice(1).some((value) => /\d/.test(value)), `a row without a figure: ${line}`);
    }
    assert.ok(rows > 0, `a table without rows under: ${lines[index]!}`);
  }
  assert.ok(tables >= jobs.length, `${tables} tables for ${jobs.length} jobs`);
});
