// PROTOCOL.md §7.1: a send with `echo=TOKEN` has the token written through the session's open
// stream, before the send is answered, so a client can tell a stream that holds data back (a
// buffering proxy) from one that delivers: the echo arrives about when the acknowledgement does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClient, endpointPath, errorBody, query, request, startServer, streamingTransports } from './support.ts';

for (const transport of streamingTransports) {
  void test(`${transport}: a send's echo token comes through the stream, and the ack says it was written`, async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const client = await SessionClient.create(server);
    assert.equal((client.hello as unknown as { echo?: unknown }).echo, true, 'the handshake says the server echoes');
    const stream = await client.open(transport, transport === 'iframe' ? { callback: 'cb' } : {});
    await stream.frame((frame) => frame.type === 'open', 'the open frame');
    const send = await request(server, `${endpointPath}/send${query({ session: client.session, echo: 'ping-1_A' })}`, {
      method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"messages":[]}',
    });
    assert.equal(send.status, 200);
    assert.deepEqual(send.json, { type: 'ack', ack: 0, errors: [], echoed: true });
    const echo = await stream.frame((frame) => frame.type === 'echo', 'the echo frame');
    assert.deepEqual(echo, { type: 'echo', echo: 'ping-1_A' });
    stream.abort();
  });
}

void test('without a stream open (a poll, or nothing) the ack says echoed: false; without echo it says nothing', async (t) => {
  const server = await startServer({ holdMs: 60_000 });
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  const send = (params: Record<string, string>) => request(server, `${endpointPath}/send${query({ session: client.session, ...params })}`, {
    method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"messages":[]}',
  });
  assert.deepEqual((await send({ echo: 'a' })).json, { type: 'ack', ack: 0, errors: [], echoed: false });
  const poll = await client.open('poll');
  assert.deepEqual((await send({ echo: 'b' })).json, { type: 'ack', ack: 0, errors: [], echoed: false });
  assert.deepEqual((await send({})).json, { type: 'ack', ack: 0, errors: [] });
  poll.abort();
  assert.deepEqual(poll.frames, [], 'a held poll is not answered by an echo');
});

void test('an echo token that is not 1 to 32 characters of [A-Za-z0-9_-] is refused with 400 bad-request', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const client = await SessionClient.create(server);
  for (const echo of ['', 'a'.repeat(33), 'a b', '"><script>', 'é']) {
    const response = await request(server, `${endpointPath}/send${query({ session: client.session, echo })}`, {
      method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"messages":[]}',
    });
    assert.equal(response.status, 400, JSON.stringify(echo));
    assert.equal(errorBody(response).code, 'bad-request');
    assert.ok(!response.text.includes('script'), 'nothing of the token is repeated');
  }
});
