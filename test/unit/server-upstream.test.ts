// Unit tests of server/upstream.ts: exactly-once application (PROTOCOL.md 6.3), refusals, limits
// and hooks, driven without HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Hub } from '../../server/hub.ts';
import type { CometServerOptions } from '../../server/options.ts';
import { resolveOptions } from '../../server/options.ts';
import { Upstream } from '../../server/upstream.ts';
import type { UpstreamMessage } from '../../server/validate.ts';

// The hooks under test never read the request; a stand-in object is enough.
const req = Object.create(null) as IncomingMessage;

function setup(options: CometServerOptions = {}) {
  const resolved = resolveOptions({ onError: () => undefined, ...options });
  const hub = new Hub(resolved);
  const upstream = new Upstream(hub, resolved);
  const session = hub.createSession(undefined, req);
  const watcher = hub.createSession(undefined, req);
  hub.subscribe(watcher, 'room');
  return { hub, upstream, session, watcher };
}

const publish = (id: number, data: unknown, channel = 'room'): UpstreamMessage => ({ id, type: 'publish', channel, data, dataJson: JSON.stringify(data) });
const subscribe = (id: number, channel: string): UpstreamMessage => ({ id, type: 'subscribe', channel });

test('a retried batch is applied once and acknowledged every time', async (t) => {
  const { hub, upstream, session, watcher } = setup();
  t.after(() => hub.close());
  const batch = [publish(1, 'a'), publish(2, 'b')];
  for (let attempt = 0; attempt < 3; attempt++) {
    assert.deepEqual(await upstream.send(session, batch, req), { kind: 'ack', ack: 2, errors: [] });
  }
  assert.equal(watcher.seq, 2);
});

test('a message after a hole stops the batch; the ack says where to resume', async (t) => {
  const { hub, upstream, session, watcher } = setup();
  t.after(() => hub.close());
  assert.deepEqual(await upstream.send(session, [publish(1, 'a'), publish(3, 'c'), publish(4, 'd')], req), { kind: 'ack', ack: 1, errors: [] });
  assert.equal(watcher.seq, 1);
  assert.deepEqual(await upstream.send(session, [publish(2, 'b'), publish(3, 'c')], req), { kind: 'ack', ack: 3, errors: [] });
  assert.equal(watcher.seq, 3);
});

test('refusals count as applied and are reported again on a retry', async (t) => {
  const { hub, upstream, session } = setup({ authorizeSubscribe: ({ channel }) => channel !== 'secret' });
  t.after(() => hub.close());
  const batch = [subscribe(1, 'secret'), subscribe(2, 'bad channel'), subscribe(3, 'open')];
  const expected = { kind: 'ack', ack: 3, errors: [{ id: 1, code: 'forbidden' }, { id: 2, code: 'bad-channel' }] };
  assert.deepEqual(await upstream.send(session, batch, req), expected);
  assert.deepEqual(await upstream.send(session, batch, req), expected);
  assert.deepEqual([...session.subscriptions], ['open']);
});

test('concurrent copies of one batch are serialised and applied once', async (t) => {
  const { hub, upstream, session, watcher } = setup({
    authorizePublish: () => new Promise((resolve) => setTimeout(() => resolve(true), 5)),
  });
  t.after(() => hub.close());
  const batch = [publish(1, 'a'), publish(2, 'b')];
  const answers = await Promise.all([1, 2, 3, 4].map(() => upstream.send(session, batch, req)));
  for (const answer of answers) assert.deepEqual(answer, { kind: 'ack', ack: 2, errors: [] });
  assert.equal(watcher.seq, 2);
});

test('more subscriptions than maxChannelsPerSession are refused; a repeated subscribe is a no-op', async (t) => {
  const subscribed: string[] = [];
  const { hub, upstream, session } = setup({ maxChannelsPerSession: 2, onSubscribe: ({ channel }) => void subscribed.push(channel) });
  t.after(() => hub.close());
  const answer = await upstream.send(session, [subscribe(1, 'a'), subscribe(2, 'a'), subscribe(3, 'b'), subscribe(4, 'c')], req);
  assert.deepEqual(answer, { kind: 'ack', ack: 4, errors: [{ id: 4, code: 'too-many-channels' }] });
  assert.deepEqual(subscribed, ['a', 'b']);
});

test('a rate-limited request applies nothing and gives retryMs of at least the server floor', async (t) => {
  const { hub, upstream, session, watcher } = setup({ sendRatePerSecond: 1, sendBurst: 2, maxBatchMessages: 2, retryMs: 300 });
  t.after(() => hub.close());
  assert.deepEqual(await upstream.send(session, [publish(1, 1), publish(2, 2)], req), { kind: 'ack', ack: 2, errors: [] });
  const refused = await upstream.send(session, [publish(3, 3)], req);
  assert.ok(refused.kind === 'rate-limited', refused.kind);
  assert.ok(refused.retryMs >= 300);
  assert.equal(watcher.seq, 2);
  assert.deepEqual(await upstream.send(session, [publish(1, 1), publish(2, 2)], req), { kind: 'ack', ack: 2, errors: [] }, 'duplicates cost no tokens');
});

test('onPublish replaces the default broadcast and may route with the hub', async (t) => {
  const seen: unknown[] = [];
  const route: { hub?: Hub } = {};
  const { hub, upstream, session, watcher } = setup({
    onPublish: ({ channel, data }) => {
      seen.push(data);
      route.hub?.publish(channel, { routed: data });
    },
  });
  route.hub = hub;
  t.after(() => hub.close());
  await upstream.send(session, [publish(1, 'x')], req);
  assert.deepEqual(seen, ['x']);
  assert.match(watcher.buffer.pendingAfter(0).frames[0]!.json, /"data":\{"routed":"x"\}/);
});

test('a throwing authorisation hook refuses (fail closed) and is reported to onError', async (t) => {
  const errors: string[] = [];
  const { hub, upstream, session, watcher } = setup({
    authorizePublish: () => {
      throw new Error('boom');
    },
    onError: (_error, where) => void errors.push(where),
  });
  t.after(() => hub.close());
  assert.deepEqual(await upstream.send(session, [publish(1, 'x')], req), { kind: 'ack', ack: 1, errors: [{ id: 1, code: 'forbidden' }] });
  assert.deepEqual(errors, ['authorizePublish']);
  assert.equal(watcher.seq, 0);
});

test('a session closed by shutdown while a hook runs applies nothing more', async (t) => {
  let release: (() => void) | undefined;
  const { hub, upstream, session } = setup({ authorizeSubscribe: () => new Promise<boolean>((resolve) => (release = () => resolve(true))) });
  t.after(() => hub.close());
  const pending = upstream.send(session, [subscribe(1, 'a')], req);
  await new Promise((resolve) => setImmediate(resolve));
  await hub.close();
  release?.();
  assert.deepEqual(await pending, { kind: 'unknown-session' });
  assert.equal(session.subscriptions.size, 0, 'a dropped session never re-enters the channel index');
});

test('dropping a session removes its subscriptions and tells the observers', async () => {
  const events: string[] = [];
  const { hub, upstream, session } = setup({
    onUnsubscribe: ({ channel, reason }) => void events.push(`unsubscribe ${channel} ${reason}`),
    onSessionClose: ({ reason, subscriptions }) => void events.push(`close ${reason} ${subscriptions.join(',')}`),
  });
  await upstream.send(session, [subscribe(1, 'a')], req);
  hub.dropSession(session, 'expired');
  assert.deepEqual(events, ['unsubscribe a session-close', 'close expired a']);
  assert.equal(hub.publish('a', 1), 0);
  await hub.close();
});

test('a server whose burst could not hold a full batch refuses to start', () => {
  assert.throws(() => resolveOptions({ sendBurst: 10, maxBatchMessages: 20 }), /sendBurst must be at least maxBatchMessages/);
});
