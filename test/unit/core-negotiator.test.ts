import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createNegotiator, inOrder, type TransportReason } from '../../src/negotiator.ts';
import { fakePlatform, fakeTransport } from '../support/fake-platform.ts';

function negotiation(supported: { multipart?: boolean } = {}) {
  const platform = fakePlatform();
  const transports = [
    fakeTransport(platform, 'eventsource'),
    fakeTransport(platform, 'multipart', { supported: supported.multipart ?? true }),
    fakeTransport(platform, 'long-polling'),
    fakeTransport(platform, 'jsonp'),
  ];
  const trace: string[] = [];
  const make = () => createNegotiator({
    platform, endpoint: 'http://push.test', preference: transports, reprobeMs: 60000,
    chose: (name, reason: TransportReason) => trace.push(`${name} ${reason}`), log: () => undefined,
  });
  return { platform, negotiator: make(), make, trace };
}

describe('negotiator', () => {
  it('orders the preference filtered by what the server offers and what the engine supports', () => {
    const { negotiator, trace } = negotiation({ multipart: false });
    negotiator.start(['multipart', 'poll', 'jsonp'], false);
    assert.deepEqual(trace, ['long-polling preferred']);
    assert.equal(negotiator.fail('network'), true);
    assert.equal(negotiator.current()?.name, 'jsonp');
    assert.equal(negotiator.fail('network'), false, 'nothing after the last');
  });

  it('remembers as failed only what says something about the transport: not a network, status or protocol failure', () => {
    const { platform, negotiator } = negotiation();
    negotiator.start(['sse', 'multipart', 'poll', 'jsonp'], false);
    for (const type of ['network', 'http-status', 'protocol', 'content-type'] as const) negotiator.fail(type);
    assert.equal(negotiator.current()?.name, 'jsonp');
    assert.deepEqual(JSON.parse(platform.storageData.get('cometkit:http://push.test') ?? ''), [null, 'jsonp'], 'only the content-type failure, of the last candidate');
  });

  it('only script transports when the endpoint is reached by script', () => {
    const { negotiator } = negotiation();
    negotiator.start(['sse', 'multipart', 'poll', 'jsonp'], true);
    assert.equal(negotiator.current()?.name, 'jsonp');
  });

  it('remembers per origin what worked and what failed its probe, for the next page', () => {
    const first = negotiation();
    first.negotiator.start(['sse', 'multipart', 'poll'], false);
    first.negotiator.fail('timeout');
    first.negotiator.fail('network');
    first.negotiator.confirm();
    assert.deepEqual(JSON.parse(first.platform.storageData.get('cometkit:http://push.test') ?? ''), ['long-polling', 'eventsource'], 'what worked, then what failed its probe');
    const next = first.make();
    next.start(['sse', 'multipart', 'poll'], false);
    assert.equal(next.current()?.name, 'long-polling');
    assert.ok(!next.confirmed(), 'it still has to prove itself in this session');
  });

  it('tries the better transport again after reprobeMs, and goes back (waiting twice as long) if it fails', () => {
    const { platform, negotiator, trace } = negotiation();
    negotiator.start(['sse', 'poll'], false);
    negotiator.fail('timeout');
    negotiator.confirm();
    negotiator.next?.();
    assert.equal(negotiator.current()?.name, 'long-polling');
    platform.advance(60000);
    negotiator.next?.();
    assert.equal(negotiator.current()?.name, 'eventsource');
    assert.equal(negotiator.fail('timeout'), true);
    assert.equal(negotiator.current()?.name, 'long-polling');
    assert.equal(negotiator.confirmed(), true);
    platform.advance(60000);
    negotiator.next?.();
    assert.equal(negotiator.current()?.name, 'long-polling');
    platform.advance(60000);
    negotiator.next?.();
    assert.equal(negotiator.current()?.name, 'eventsource');
    assert.deepEqual(trace, ['eventsource preferred', 'long-polling fallback', 'eventsource reprobe', 'long-polling reprobe-failed', 'eventsource reprobe']);
  });

  it('survives storage that throws or holds garbage', () => {
    const { platform, negotiator } = negotiation();
    platform.storageData.set('cometkit:http://push.test', '{not json');
    negotiator.start(['sse'], false);
    assert.equal(negotiator.current()?.name, 'eventsource');
    // JSON of another shape, such as an earlier version's record, counts as nothing stored.
    platform.storageData.set('cometkit:http://push.test', '{"ok":"long-polling","bad":["eventsource"]}');
    const next = createNegotiator({
      platform, endpoint: 'http://push.test', preference: [fakeTransport(platform, 'eventsource'), fakeTransport(platform, 'long-polling')],
      reprobeMs: 60000, chose: () => undefined, log: () => undefined,
    });
    next.start(['sse', 'poll'], false);
    assert.equal(next.current()?.name, 'eventsource');
    Object.assign(platform.localStorage ?? {}, { setItem: () => { throw new Error('quota'); } });
    assert.doesNotThrow(() => negotiator.confirm());
  });

  it('without memory (CometClientCore\'s default), tries the candidates in order and stores nothing', () => {
    const platform = fakePlatform();
    const transports = [fakeTransport(platform, 'eventsource'), fakeTransport(platform, 'long-polling'), fakeTransport(platform, 'jsonp')];
    const trace: string[] = [];
    const negotiator = inOrder({
      platform, endpoint: 'http://push.test', preference: transports, reprobeMs: 60000,
      chose: (name, reason) => trace.push(`${name} ${reason}`), log: () => undefined,
    });
    negotiator.start(['sse', 'poll', 'jsonp'], false);
    assert.equal(negotiator.fail('timeout'), true);
    negotiator.confirm();
    assert.equal(negotiator.fail('timeout'), false, 'a working transport is not failed over');
    platform.advance(600000);
    negotiator.next?.();
    assert.equal(negotiator.current()?.name, 'long-polling', 'no reprobe: a planned request stays on the transport that works');
    negotiator.start(['sse', 'poll'], false);
    assert.equal(negotiator.current()?.name, 'long-polling', 'a new session keeps the transport that works');
    assert.equal(negotiator.confirmed(), true);
    assert.deepEqual(trace, ['eventsource preferred', 'long-polling fallback']);
    assert.equal(platform.storageData.size, 0);
  });

  it('remembers per origin of the endpoint, lower-cased; a relative endpoint is on the page\'s origin', () => {
    const platform = fakePlatform({ pageOrigin: 'http://page.test' });
    const transports = [fakeTransport(platform, 'eventsource')];
    for (const endpoint of ['HTTPS://Push.Test:8443/comet', '/comet']) {
      const negotiator = createNegotiator({ platform, endpoint, preference: transports, reprobeMs: undefined, chose: () => undefined, log: () => undefined });
      negotiator.start(['sse'], false);
      negotiator.confirm();
    }
    assert.deepEqual([...platform.storageData.keys()], ['cometkit:https://push.test:8443', 'cometkit:http://page.test']);
  });
});
