// The connection as deterministic traces: scripted transports and requests on a virtual clock.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CometError } from '../../src/errors.ts';
import { harness } from '../support/core-harness.ts';
import { ackAll, fakePlatform, fakeTransport, frames, handshakeAnswer, SESSION } from '../support/fake-platform.ts';

function streamingAndPolling() {
  const platform = fakePlatform();
  const sse = fakeTransport(platform, 'eventsource');
  const poll = fakeTransport(platform, 'long-polling');
  return { platform, sse, poll, world: harness({ platform, transports: [sse, poll] }) };
}

describe('connection', () => {
  it('handshakes, opens the preferred stream at the session seq and becomes open on its first frame', () => {
    const { platform, sse, world } = streamingAndPolling();
    assert.equal(world.client.state, 'connecting');
    platform.flush();
    assert.equal(sse.last().session, SESSION);
    assert.equal(sse.last().since, 0);
    assert.equal(world.client.state, 'connecting');
    sse.last().deliver(frames.open());
    assert.equal(world.client.state, 'open');
    assert.deepEqual(world.of('statechange'), [{ state: 'open', reason: 'connected' }]);
    assert.deepEqual(world.of('transport'), [{ name: 'eventsource', reason: 'preferred' }]);
  });

  it('a buffering proxy (no first frame within probeTimeoutMs) sends it to long polling with no message lost', () => {
    const { platform, sse, poll, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(); // the proxy holds everything back
    platform.advance(4999);
    assert.equal(poll.exchanges.length, 0);
    platform.advance(1);
    assert.ok(sse.last().closedByClient, 'the stream is ended before the poll opens');
    assert.equal(poll.last().since, 0);
    poll.last().deliver(frames.msg(1), frames.msg(2));
    poll.last().end();
    assert.equal(poll.last().since, 2);
    assert.deepEqual(world.received.map((message) => message.seq), [1, 2]);
    assert.equal(world.client.transport, 'long-polling');
    assert.deepEqual(world.of('transport').map((event) => event.reason), ['preferred', 'fallback']);
    const [probeError] = world.of('error');
    assert.equal(probeError?.type, 'timeout');
    assert.equal(probeError.willRetry, true);
    // Stored: the transport that worked, then those that failed their probe.
    assert.match(platform.storageData.get('cometkit:http://page.test') ?? '', /^\["long-polling","eventsource"\]$/);
  });

  it('a stream that fails below HTTP before its first frame hands over to the next transport, without being marked bad', () => {
    // WebKit ends a multipart/x-mixed-replace XHR with status 0, which reads as a network error.
    const { platform, sse, poll, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().end({ type: 'network', detail: 'failed' });
    assert.equal(poll.exchanges.length, 1, 'the poll opened at once, without backoff');
    assert.equal(poll.last().since, 0);
    poll.last().deliver(frames.msg(1));
    poll.last().end();
    assert.deepEqual(world.received.map((message) => message.seq), [1]);
    assert.deepEqual(world.of('transport').map((event) => event.reason), ['preferred', 'fallback']);
    assert.doesNotMatch(platform.storageData.get('cometkit:http://page.test') ?? '', /,"eventsource"/);
  });

  it('a transport that throws in open is reported as a bug naming it, and the next one is tried without remembering it as failing', () => {
    const platform = fakePlatform();
    const broken = fakeTransport(platform, 'eventsource');
    const thrown = new TypeError('source.start is not a function');
    broken.open = () => { throw thrown; };
    const poll = fakeTransport(platform, 'long-polling');
    const world = harness({ platform, transports: [broken, poll] });
    platform.flush();
    const errors = world.of('error');
    assert.deepEqual(errors.map((error) => [error.type, error.transport, error.willRetry, error.message]),
      [['bug', 'eventsource', true, 'eventsource threw in open: TypeError: source.start is not a function']]);
    assert.equal(errors[0]?.cause, thrown);
    assert.equal(poll.exchanges.length, 1, 'fell back to the next transport');
    poll.last().end();
    assert.deepEqual(JSON.parse(platform.storageData.get('cometkit:http://page.test') ?? ''), ['long-polling'], 'what worked, and no failed probe');
  });

  it('a stream that proved itself and is then cut reconnects on the same transport', () => {
    const { platform, sse, poll } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    sse.last().end({ type: 'network', detail: 'cut' });
    platform.advance(30000);
    sse.last().end({ type: 'network', detail: 'refused' });
    platform.advance(30000);
    assert.equal(poll.exchanges.length, 0);
    assert.equal(sse.exchanges.length, 3);
  });


  it('a stream that served for at least retryMs and is cut comes back within 100 ms; a second failure waits out the backoff', () => {
    const { platform, sse, world } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    platform.advance(1000); // the handshake's retryMs: the stream was healthy
    Object.assign(platform.Math, { random: () => 0.9999 }); // the longest wait the jitter can draw
    sse.last().end({ type: 'network', detail: 'cut' });
    assert.equal(world.client.state, 'reconnecting');
    platform.advance(99);
    assert.equal(sse.exchanges.length, 1, 'a random wait, not at once: a mass cut does not come back in lockstep');
    platform.advance(1);
    assert.equal(sse.exchanges.length, 2, 'reopened within 100 ms, not after retryMs');
    sse.last().end({ type: 'network', detail: 'refused' });
    platform.advance(999);
    assert.equal(sse.exchanges.length, 2, 'the next failure waits at least retryMs');
    platform.advance(30000);
    assert.equal(sse.exchanges.length, 3);
  });

  it('a stream that delivered a message comes back at once when cut, however young', () => {
    const { platform, sse, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1));
    platform.advance(100);
    sse.last().end({ type: 'network', detail: 'cut' });
    platform.advance(250);
    assert.equal(sse.exchanges.length, 2);
    assert.equal(sse.last().since, 1);
  });

  it('a stream cut sooner than retryMs after it proved itself, with no message, waits at least retryMs, so a server that cuts at once makes no tight loop', () => {
    const { platform, sse } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    platform.advance(500);
    sse.last().end({ type: 'network', detail: 'cut' });
    platform.advance(999);
    assert.equal(sse.exchanges.length, 1);
    platform.advance(30000);
    assert.equal(sse.exchanges.length, 2);
  });
  it('remembers the transport that worked, and goes straight to it next time', () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    const poll = fakeTransport(platform, 'long-polling');
    platform.storageData.set('cometkit:http://page.test', JSON.stringify(['long-polling', 'eventsource']));
    const world = harness({ platform, transports: [sse, poll] });
    platform.flush();
    assert.equal(sse.exchanges.length, 0);
    assert.equal(poll.exchanges.length, 1);
    assert.deepEqual(world.of('transport'), [{ name: 'long-polling', reason: 'remembered' }]);
  });

  it('re-probes the better transport after reprobeMs, in place of the poll, and keeps it when it works', () => {
    const { platform, sse, poll, world } = streamingAndPolling();
    platform.flush();
    platform.advance(5000); // probe timeout: falls back to polling
    poll.last().end(); // a poll answered: polling works
    platform.advance(60000);
    const polls = poll.exchanges.length;
    poll.last().end(); // the next poll ends: time to try the stream again
    assert.equal(poll.exchanges.length, polls, 'no new poll beside the probe');
    assert.equal(sse.exchanges.length, 2);
    assert.equal(sse.last().since, 0);
    sse.last().deliver(frames.open());
    assert.equal(world.client.transport, 'eventsource');
    assert.deepEqual(world.of('transport').map((event) => event.reason), ['preferred', 'fallback', 'reprobe']);
  });

  it('after a recycle it reconnects at once with since, without backoff', () => {
    const { platform, sse, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1), frames.msg(2), frames.close('recycle', 'now'));
    assert.equal(sse.exchanges.length, 2);
    assert.equal(sse.last().since, 2);
    assert.equal(world.client.state, 'open');
    assert.deepEqual(world.of('error'), []);
  });

  it('a duplicate seq is dropped', () => {
    const { platform, sse, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1), frames.msg(2), frames.msg(2), frames.msg(1), frames.msg(3));
    assert.deepEqual(world.received.map((message) => message.seq), [1, 2, 3]);
  });

  it('resumes from the last seq seen after a cut, across a transport change, each message once', () => {
    const { platform, sse, poll, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1));
    sse.last().end({ type: 'network', detail: 'cut' });
    assert.equal(world.client.state, 'reconnecting');
    platform.advance(30000);
    assert.equal(sse.last().since, 1);
    sse.last().deliver(frames.open(1), frames.msg(1), frames.msg(2));
    assert.deepEqual(world.received.map((message) => message.seq), [1, 2]);
    assert.equal(poll.exchanges.length, 0);
  });

  it('reports a gap frame and continues after it', () => {
    const { platform, sse, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(1200), frames.gap(1201, 1500), frames.msg(1501));
    assert.deepEqual(world.of('gap'), [{ from: 1201, to: 1500 }]);
    assert.deepEqual(world.received.map((message) => message.seq), [1501]);
  });

  it('an expired session re-handshakes, resubscribes and emits gap', () => {
    const { platform, sse, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1));
    sse.last().deliver(frames.close('unknown-session', 'handshake'));
    assert.deepEqual(world.of('gap'), [{ reason: 'unknown-session' }]);
    assert.equal(world.client.state, 'reconnecting');
    platform.advance(2000);
    assert.equal(world.handshakes().length, 2);
    const resubscribe = world.sends().at(-1);
    assert.deepEqual(resubscribe?.messages, [{ id: 1, type: 'subscribe', channel: 'room/42' }]);
    assert.equal(sse.last().since, 0, 'a new session starts from its own seq');
  });

  it('a send answered with an ack lower than the one before (a server that lost state) re-handshakes and emits gap, with no tight loop', async () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    let acks = [1, 0];
    // Answers at most 10 sends, so that a client looping on the lost session fails this test instead of hanging it.
    let answered = 0;
    const world = harness({ platform, transports: [sse], respond: { send: () => (answered++ < 10 ? { ok: true, value: { type: 'ack', ack: acks.shift() ?? 0 } } : undefined) } });
    platform.flush();
    sse.last().deliver(frames.open());
    const first = world.client.publish('room/42', 'first');
    platform.flush();
    await first;
    const second = world.client.publish('room/42', 'second');
    platform.flush();
    assert.deepEqual(world.of('gap'), [{ reason: 'unknown-session' }]);
    assert.equal(world.client.state, 'reconnecting');
    assert.equal(world.sends().length, 2, 'nothing sent again on the lost session');
    acks = [1];
    platform.advance(2000);
    assert.equal(world.handshakes().length, 2);
    await second;
    assert.deepEqual(world.sends().map((request) => request.messages.map((message) => `${message.id} ${String(message.data)}`)), [['1 first'], ['2 second'], ['1 second']]);
  });

  it('honours close with backoff, never sooner than its retryMs', () => {
    const { platform, sse, world } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open(), frames.close('shutdown', 'backoff', 5000));
    assert.equal(world.client.state, 'reconnecting');
    platform.advance(4999);
    assert.equal(sse.exchanges.length, 1);
    platform.advance(1001); // at most retryMs + initialDelayMs
    assert.equal(sse.exchanges.length, 2);
  });

  it('ignores a stale request ended with close none, and does not reconnect it', () => {
    const { platform, sse, world } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open(), frames.close('replaced', 'none'));
    sse.last().end();
    platform.advance(1000);
    assert.equal(sse.exchanges.length, 1);
    assert.deepEqual(world.of('error'), []);
  });

  it('a malformed frame is a typed error, then a reconnect from since: never an exception', () => {
    const { platform, sse, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    sse.last().deliver(frames.open(), frames.msg(1));
    assert.doesNotThrow(() => sse.last().deliver({ type: 'msg', seq: 'two' }));
    const [error] = world.of('error');
    assert.ok(error instanceof CometError);
    assert.deepEqual([error.type, error.transport, error.willRetry], ['malformed', 'eventsource', true]);
    platform.advance(30000);
    assert.equal(sse.last().since, 1);
  });

  it('a stream silent past twice the heartbeat is closed and reconnected', () => {
    const { platform, sse, world } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open(0, 10000));
    platform.advance(15000);
    sse.last().deliver(frames.hb());
    platform.advance(19999);
    assert.equal(sse.last().done, false, 'a heartbeat keeps it alive');
    platform.advance(1);
    assert.ok(sse.exchanges[0]?.closedByClient);
    assert.equal(world.of('error')[0]?.type, 'timeout');
    assert.equal(world.client.state, 'reconnecting');
  });

  it('a background tab whose timers are late notices the silent stream on visibilitychange', () => {
    const { platform, sse, world } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    platform.jump(60000); // wall clock moves, no timer fired
    platform.fire('document', 'visibilitychange');
    assert.ok(sse.last().closedByClient);
    assert.equal(world.client.state, 'reconnecting');
  });

  it('reconnects at once when the browser comes back online, instead of waiting out the backoff', () => {
    const { platform, sse } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    sse.last().end({ type: 'network', detail: 'offline' });
    assert.equal(sse.exchanges.length, 1);
    platform.fire('window', 'online');
    assert.equal(sse.exchanges.length, 2);
  });

  it('a page restored from the back-forward cache reconnects at once', () => {
    const { platform, sse } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    platform.fire('window', 'pageshow', { persisted: true });
    assert.ok(sse.exchanges[0]?.closedByClient);
    assert.equal(sse.exchanges.length, 2);
  });

  it('never holds more than two requests in flight during a reconnect storm', () => {
    const { platform, sse, poll, world } = streamingAndPolling();
    world.subscribe('room/42');
    platform.flush();
    for (let round = 0; round < 40; round++) {
      void world.client.publish('room/42', round).catch(() => undefined);
      const current = [sse, poll].flatMap((transport) => transport.exchanges).find((exchange) => !exchange.done);
      if (round % 3 === 0) current?.deliver(frames.open(), frames.close('recycle', 'now'));
      else if (round % 3 === 1) current?.end({ type: 'network', detail: 'cut' });
      else platform.fire('window', 'online');
      if (round % 7 === 0) current?.deliver(frames.close('unknown-session', 'handshake'));
      platform.advance(700);
    }
    assert.ok(platform.peakInFlight <= 2, `peak ${platform.peakInFlight}`);
    assert.ok(platform.peakInFlight >= 2);
  });

  it('a refused handshake closes the client with a typed error that will not be retried', () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    const world = harness({
      platform,
      transports: [sse],
      respond: { handshake: () => ({ ok: false, failure: { type: 'http-status', status: 401, detail: 'unauthorized' }, value: { code: 'unauthorized' } }) },
    });
    platform.flush();
    const [error] = world.of('error');
    assert.deepEqual([error?.type, error?.status, error?.code, error?.willRetry], ['handshake-refused', 401, 'unauthorized', false]);
    assert.equal(world.client.state, 'closed');
    assert.deepEqual(world.of('close'), [{ reason: 'handshake-refused' }]);
  });

  it('gives up after maxAttempts consecutive failures', () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    const world = harness({
      platform,
      transports: [sse],
      options: { reconnect: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 3, maxElapsedMs: Infinity } },
      respond: { handshake: () => ({ ok: false, failure: { type: 'network', detail: 'refused' } }) },
    });
    platform.advance(10000);
    assert.equal(world.handshakes().length, 4);
    assert.equal(world.client.state, 'closed');
    assert.deepEqual(world.of('error').map((error) => error.willRetry), [true, true, true, false]);
  });

  it('cross-origin with only script transports, handshakes and sends by script (GET), never fetch', () => {
    const platform = fakePlatform();
    const jsonp = fakeTransport(platform, 'jsonp');
    const world = harness({ platform, transports: [jsonp], endpoint: 'http://push.test/comet' });
    world.subscribe('room/42');
    platform.flush();
    platform.flush();
    assert.deepEqual(world.io.requests.map((request) => [request.kind, request.via]), [['handshake', 'script'], ['send', 'script']]);
    assert.equal(world.client.state, 'open');
    assert.equal(jsonp.last().url.origin, 'http://push.test');
  });

  it('by script without batching (one message per request), a message too long for any URL is refused as too-large, and the next goes on', async () => {
    const platform = fakePlatform();
    const jsonp = fakeTransport(platform, 'jsonp');
    const world = harness({ platform, transports: [jsonp], endpoint: 'http://push.test/comet', options: { batching: undefined } });
    const big = world.client.publish('room/42', 'x'.repeat(2000));
    const small = world.client.publish('room/42', 'small');
    platform.flush();
    platform.flush();
    await assert.rejects(big, (error) => error instanceof CometError && error.type === 'publish-refused' && error.code === 'too-large' && error.status === 414);
    await small;
    assert.deepEqual(world.sends().map((request) => request.messages.map((message) => [message.id, message.data])), [[[1, 'small']]]);
    assert.ok(world.sends().every((request) => request.url.href.length <= 2000));
  });

  it('cross-origin, a fetch handshake that fails below HTTP (no CORS) is retried by script', () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    const jsonp = fakeTransport(platform, 'jsonp');
    const world = harness({
      platform,
      transports: [sse, jsonp],
      endpoint: 'http://push.test/comet',
      respond: { handshake: (request) => (request.via === 'fetch' ? { ok: false, failure: { type: 'network', detail: 'cors' } } : handshakeAnswer()) },
    });
    platform.flush();
    platform.flush();
    assert.deepEqual(world.handshakes().map((request) => request.via), ['fetch', 'script']);
    assert.equal(sse.exchanges.length, 0);
    assert.equal(jsonp.exchanges.length, 1);
  });

  it('close() ends the stream, rejects pending publishes with a closed error and emits close', async () => {
    const { platform, sse, world } = streamingAndPolling();
    platform.flush();
    sse.last().deliver(frames.open());
    const pending = world.client.publish('room/42', 'hi');
    world.client.close();
    await assert.rejects(pending, (error: CometError) => error.type === 'closed' && !error.willRetry);
    assert.ok(sse.last().closedByClient);
    assert.deepEqual(world.of('close'), [{ reason: 'client-close' }]);
    assert.equal(platform.inFlight, 0);
  });

  it('cross-origin by script, keeps every send URL under 2,000 characters, splitting batches', () => {
    const platform = fakePlatform();
    const jsonp = fakeTransport(platform, 'jsonp');
    const world = harness({ platform, transports: [jsonp], endpoint: 'http://push.test/comet' });
    platform.flush();
    for (let index = 0; index < 20; index++) void world.client.publish('room/42', { text: 'é "quoted" '.repeat(8), index });
    platform.advance(100);
    const sends = world.sends();
    assert.ok(sends.length > 2);
    assert.deepEqual(sends.flatMap((request) => request.messages.map((message) => message.id)), Array.from({ length: 20 }, (_, index) => index + 1));
    // scriptJson adds `&callback=NAME` (about 30 characters) to each.
    for (const request of sends) assert.ok(request.url.href.length + '&callback=cometkit99_abcdefgh'.length < 2000, String(request.url.href.length));
  });

  it('a handshake that stays unanswered for sendTimeoutMs fails as network and is retried', () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    let answer = false;
    const world = harness({ platform, transports: [sse], respond: { handshake: () => (answer ? handshakeAnswer() : undefined) } });
    platform.advance(14999);
    assert.deepEqual(world.of('error'), []);
    platform.advance(1);
    assert.deepEqual(world.of('error').map((error) => [error.type, error.willRetry]), [['network', true]]);
    assert.ok(world.handshakes()[0]?.done);
    answer = true;
    platform.advance(30000);
    assert.equal(world.handshakes().length, 2);
    assert.equal(sse.exchanges[0]?.session, SESSION, 'the second handshake opened the stream');
  });

  it('a send that stays unanswered for sendTimeoutMs is retried with the same ids', async () => {
    const platform = fakePlatform();
    const sse = fakeTransport(platform, 'eventsource');
    let answer = false;
    const world = harness({ platform, transports: [sse], respond: { send: (request) => (answer ? ackAll(request) : undefined) } });
    platform.flush();
    sse.last().deliver(frames.open());
    const published = world.client.publish('room/42', 'hi');
    platform.flush();
    platform.advance(15000);
    assert.deepEqual(world.of('error').map((error) => [error.type, error.willRetry]), [['network', true]]);
    answer = true;
    platform.advance(2000);
    await published;
    assert.deepEqual(world.sends().map((request) => request.messages.map((message) => message.id)), [[1], [1]]);
  });
});
