// The pure parts of cometkit/bayeux: Bayeux error strings, which refusals mean an unknown client,
// channel patterns, the ack extension's state, and the upstream queue's batches (split to fit a
// URL by script, subscribes sent again after a failure, publishes not).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ackExtension } from '../../src/bayeux/extensions.ts';
import { channelMatches, isUnknownClient, parseError, refusalType } from '../../src/bayeux/messages.ts';
import { createUpstream, type UpstreamRoute } from '../../src/bayeux/upstream.ts';
import type { BayeuxMessage } from '../../src/bayeux/messages.ts';
import type { CometError } from '../../src/errors.ts';
import { fakePlatform } from '../support/fake-platform.ts';

describe('Bayeux errors', () => {
  it('parses code, arguments and message', () => {
    assert.deepEqual(parseError('402::session_unknown'), { code: 402, message: 'session_unknown' });
    assert.deepEqual(parseError('401:abc123:Unknown client'), { code: 401, message: 'Unknown client' });
    assert.deepEqual(parseError('not an error string'), { code: 0, message: 'not an error string' });
  });

  it("knows Faye's and CometD's unknown client, and not Faye's missing parameter", () => {
    assert.equal(isUnknownClient({ channel: '/meta/subscribe', error: '401:x:Unknown client' }), true);
    assert.equal(isUnknownClient({ channel: '/chat', error: '402::session_unknown' }), true);
    assert.equal(isUnknownClient({ channel: '/meta/connect', error: '500::whatever', advice: { reconnect: 'handshake' } }), true);
    assert.equal(isUnknownClient({ channel: '/meta/subscribe', error: '402:clientId:Missing required parameter' }), false);
  });

  it('maps a refusal to its type by channel', () => {
    assert.equal(refusalType('/meta/handshake'), 'handshake-refused');
    assert.equal(refusalType('/meta/subscribe'), 'subscribe-refused');
    assert.equal(refusalType('/chat/room'), 'publish-refused');
    assert.equal(refusalType('/meta/unsubscribe'), 'protocol');
  });
});

describe('Bayeux channel patterns', () => {
  it('matches names, one-segment /* and any-depth /**', () => {
    assert.equal(channelMatches('/a/b', '/a/b'), true);
    assert.equal(channelMatches('/a/*', '/a/b'), true);
    assert.equal(channelMatches('/a/*', '/a/b/c'), false);
    assert.equal(channelMatches('/a/**', '/a/b/c'), true);
    assert.equal(channelMatches('/a/*', '/a'), false);
    assert.equal(channelMatches('/a/*', '/ab/c'), false);
  });
});

describe('the ack extension', () => {
  it('asks in the handshake, and acknowledges the last batch only once the server agreed', () => {
    const ack = ackExtension();
    const handshake: BayeuxMessage = { channel: '/meta/handshake' };
    ack.outgoing?.(handshake);
    assert.deepEqual(handshake.ext, { ack: true });
    const early: BayeuxMessage = { channel: '/meta/connect' };
    ack.outgoing?.(early);
    assert.equal(early.ext, undefined, 'not before the server agreed');
    ack.incoming?.({ channel: '/meta/handshake', successful: true, ext: { ack: true } });
    ack.incoming?.({ channel: '/meta/connect', successful: true, ext: { ack: 7 } });
    const next: BayeuxMessage = { channel: '/meta/connect' };
    ack.outgoing?.(next);
    assert.deepEqual(next.ext, { ack: 7 });
  });

  it('stays off when the server does not offer it', () => {
    const ack = ackExtension();
    ack.outgoing?.({ channel: '/meta/handshake' });
    ack.incoming?.({ channel: '/meta/handshake', successful: true });
    const connect: BayeuxMessage = { channel: '/meta/connect' };
    ack.outgoing?.(connect);
    assert.equal(connect.ext, undefined);
  });
});

describe('the Bayeux upstream queue', () => {
  function queue(room?: number) {
    const platform = fakePlatform();
    const sent: BayeuxMessage[][] = [];
    let answer: ((failure?: { type: 'network'; detail: string }) => void) | undefined;
    let id = 0;
    const route: UpstreamRoute = {
      send(messages, done) {
        sent.push(messages);
        answer = (failure) => { done(failure, failure ? undefined : new Map(messages.map((message) => [String(message.id), { ...message, successful: true }]))); };
        return () => undefined;
      },
      room: () => room,
      unknownClient: () => undefined,
      delay: () => 100,
      id: () => String(++id),
    };
    const upstream = createUpstream(platform, route);
    return { platform, sent, upstream, answer: (failure?: { type: 'network'; detail: string }) => answer?.(failure) };
  }

  it('sends nothing before a session, then everything queued in one request', () => {
    const { platform, sent, upstream } = queue();
    upstream.push({ message: { channel: '/meta/subscribe', subscription: '/a' }, settle: () => undefined });
    upstream.push({ message: { channel: '/a', data: 1 }, settle: () => undefined });
    platform.flush();
    assert.equal(sent.length, 0);
    upstream.resume('client-1');
    platform.flush();
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.map((message) => [message.channel, message.clientId]), [['/meta/subscribe', 'client-1'], ['/a', 'client-1']]);
  });

  it('by script, splits a batch so that each request fits the URL room', () => {
    const { platform, sent, upstream, answer } = queue(700);
    for (let index = 0; index < 6; index += 1) upstream.push({ message: { channel: '/a', data: 'x'.repeat(100) }, settle: () => undefined });
    upstream.resume('client-1');
    platform.flush();
    while (sent.length < 10 && sent.flat().length < 6) {
      answer();
      platform.flush();
    }
    assert.ok(sent.length > 1, `${sent.length} requests`);
    for (const request of sent) assert.ok(encodeURIComponent(JSON.stringify(request)).length <= 700);
    assert.equal(sent.flat().length, 6);
  });

  it('after a failure below Bayeux sends a subscribe again, and rejects a publish', () => {
    const { platform, sent, upstream, answer } = queue();
    const settled: (CometError | undefined)[] = [];
    upstream.push({ message: { channel: '/meta/subscribe', subscription: '/a' }, settle: (error) => settled.push(error) });
    upstream.push({ message: { channel: '/a', data: 1 }, settle: (error) => settled.push(error) });
    upstream.resume('client-1');
    platform.flush();
    answer({ type: 'network', detail: 'failed' });
    assert.deepEqual(settled.map((error) => error?.type), ['network'], 'the publish rejects at once');
    platform.advance(100);
    assert.deepEqual(sent[1]!.map((message) => message.channel), ['/meta/subscribe']);
    answer();
    assert.deepEqual(settled.map((error) => error?.type), ['network', undefined]);
  });
});
