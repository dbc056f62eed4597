// PROTOCOL.md §3.5: script-carried responses (jsonp, the iframe document, sends with a callback)
// never let client data run, and refuse callback names that are not plain identifiers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SessionClient,
  endpointPath,
  errorBody,
  hasUnescapedScriptHazard,
  query,
  request,
  runJsonp,
  startServer,
  type IframeParser,
  type TestServer,
} from './support.ts';

const hostile = [
  '</script><script>alert(1)</script>',
  '</SCRIPT >',
  '<!-- <script>',
  'line\u2028separator\u2029paragraph',
  '&lt; & <b> "quoted" \'single\'',
  ']]> --> */ /**/',
];

async function subscribed(server: TestServer): Promise<SessionClient> {
  const client = await SessionClient.create(server);
  await client.subscribe('room/42');
  return client;
}

void test('jsonp bodies escape </script>, <!--, U+2028 and U+2029 and deliver the data intact', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await subscribed(server);
  for (const data of hostile) server.comet.publish('room/42', { text: data, [data]: data });
  const poll = await client.open('jsonp', { callback: 'cb' });
  await poll.end();
  assert.ok(!hasUnescapedScriptHazard(poll.text), poll.text);
  assert.ok(!/[<>]/.test(poll.text.slice(4)), 'no raw < or > after the /**/ prefix');
  assert.deepEqual(poll.violations, []);
  assert.deepEqual(poll.messages.map((frame) => frame.data), hostile.map((data) => ({ text: data, [data]: data })));
});

void test('iframe batch scripts escape </script>, <!--, U+2028 and U+2029 and deliver the data intact', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await subscribed(server);
  const stream = await client.open('iframe', { callback: 'cb' });
  await stream.frame((frame) => frame.type === 'open', 'the open frame');
  for (const data of hostile) server.comet.publish('room/42', data);
  await stream.messageCount(hostile.length);
  const parser = stream.parser as IframeParser;
  for (const script of parser.batchScripts) {
    assert.ok(!hasUnescapedScriptHazard(script), script);
    assert.ok(!/[<>]/.test(script), `raw < or > in ${script}`);
  }
  assert.ok(!/[\u2028\u2029]/.test(stream.text));
  // Exactly the documented number of script elements: nothing in the data opened another.
  assert.equal((stream.text.match(/<script\b/gi) ?? []).length, parser.batchScripts.length + 1);
  assert.deepEqual(parser.violations, []);
  assert.deepEqual(stream.messages.map((frame) => frame.data), hostile);
  stream.abort();
});

const badCallbacks = ['alert(1)//', '<b>', 'a'.repeat(65), '', '1abc', 'a.b', 'a-b', 'a b', 'cb;alert(1)', 'é', 'a\u2028', 'x</script>'];

for (const [resource, extra] of [
  ['jsonp', { since: 0 }],
  ['iframe', { since: 0 }],
  ['handshake', { v: 1 }],
  ['send', { messages: '[]' }],
] as const) {
  void test(`a ${resource} request with a callback that is not an identifier is refused with 400 bad-callback, without echoing it`, async (t) => {
    const server = await startServer({ holdMs: 100 });
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    for (const callback of badCallbacks) {
      const session = resource === 'handshake' ? undefined : client.session;
      const response = await request(server, `${endpointPath}/${resource}${query({ session, ...extra, callback })}`);
      assert.equal(response.status, 400, `callback ${JSON.stringify(callback)}`);
      assert.equal(errorBody(response).code, 'bad-callback', `callback ${JSON.stringify(callback)}`);
      assert.match(response.headers['content-type'] ?? '', /^application\/json/);
      if (callback.length > 1) assert.ok(!response.text.includes(callback), `the body repeats ${JSON.stringify(callback)}: ${response.text}`);
      assert.ok(!response.text.includes('alert'), response.text);
    }
    assert.equal(server.comet.inspect().sessions, 1, 'a refused handshake opens no session');
  });
}

void test('a callback of 64 identifier characters, with $ and _, is accepted', async (t) => {
  const server = await startServer({ holdMs: 100 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const callback = `$_${'a'.repeat(60)}_9`;
  assert.equal(callback.length, 64);
  const poll = await client.open('jsonp', { callback });
  await poll.end();
  assert.equal(poll.status, 200);
  assert.ok(poll.text.startsWith(`/**/${callback}(`));
});

void test('an upstream GET send with a callback answers the ack as JSONP', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const messages = JSON.stringify([{ id: 1, type: 'subscribe', channel: 'room/42' }, { id: 2, type: 'subscribe', channel: 'bad channel' }]);
  const response = await request(server, `${endpointPath}/send${query({ session: client.session, callback: 'onAck', messages })}`);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/javascript; charset=utf-8');
  assert.equal(response.headers['cache-control'], 'no-cache, no-store, no-transform');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  const { value, violations } = runJsonp(response.text, 'onAck');
  assert.deepEqual(violations, []);
  assert.deepEqual(value, { type: 'ack', ack: 2, errors: [{ id: 2, code: 'bad-channel' }] });
});
