// PROTOCOL.md §8.1 `shutdown`: close() ends every open downstream request with a shutdown frame,
// and leaves nothing behind that would keep the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SessionClient, allTransports, eventually, startServer, withTimeout, type Downstream } from './support.ts';

void test('close() ends every open stream and held poll with close shutdown, reconnect backoff and retryMs', async (t) => {
  const server = await startServer({ holdMs: 60_000, retryMs: 777 });
  t.after(() => server.stop());
  const streams: Downstream[] = [];
  for (const transport of allTransports) {
    const client = await SessionClient.create(server);
    await client.subscribe('room/42');
    const stream = await client.open(transport);
    if (transport !== 'poll' && transport !== 'jsonp') await stream.frame((frame) => frame.type === 'open', 'the open frame');
    streams.push(stream);
  }
  await eventually(() => server.comet.inspect().openDownstream === allTransports.length, 'every request to be held');
  await withTimeout(server.comet.close(), 10_000, 'close()');
  for (const stream of streams) {
    await stream.end();
    assert.equal(stream.status, 200, stream.path);
    assert.deepEqual(stream.lastFrame, { type: 'close', code: 'shutdown', reconnect: 'backoff', retryMs: 777 }, stream.path);
    assert.deepEqual(stream.violations, [], stream.path);
  }
  assert.deepEqual(server.serverErrors, []);
});

void test('close() lets the process exit on its own', async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const fixture = fileURLToPath(new URL('./fixtures/exit-after-close.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', './test/support/register.mjs', fixture], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const code = await withTimeout(exited, 30_000, `the child process to exit by itself; stdout: ${stdout}`);
    assert.equal(code, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const result = JSON.parse(stdout.trim()) as { stream: unknown; poll: unknown };
  assert.deepEqual(result.stream, { type: 'close', code: 'shutdown', reconnect: 'backoff', retryMs: 1000 });
  assert.deepEqual(result.poll, { type: 'close', code: 'shutdown', reconnect: 'backoff', retryMs: 1000 });
});
