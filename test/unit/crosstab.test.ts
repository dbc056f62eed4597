// Cross-tab sharing (src/crosstab.ts) on stand-in Web Locks and BroadcastChannel (test/support/tabs.ts):
// the election, the followers going through the leader, reference-counted subscriptions across
// pages, and the takeover when the leader goes away, exactly once upstream and downstream.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { CometClientCore, CometError } from '../../src/index.ts';
import { SESSION, frames } from '../support/fake-platform.ts';
import { origin, type TabPage } from '../support/tabs.ts';

interface Opened { page: TabPage; client: CometClientCore; received: number[]; errors: CometError[] }

/** `count` pages of one origin, each with a client subscribed to `room`, settled. */
async function pages(count: number, room = 'room/42') {
  const world = origin();
  const opened: Opened[] = [];
  for (let index = 0; index < count; index++) {
    const page = world.page();
    const client = page.client();
    const received: number[] = [];
    const errors: CometError[] = [];
    client.on('error', (error) => errors.push(error));
    client.subscribe(room, (_data, { seq }) => received.push(seq));
    opened.push({ page, client, received, errors });
  }
  await world.settle();
  const leader = () => {
    const leaders = opened.filter((each) => !each.page.crashed && each.client.leader);
    assert.equal(leaders.length, 1, `one leader, not ${leaders.length}`);
    return leaders[0]!;
  };
  const stream = () => leader().page.sse.last();
  const handshakes = () => world.pages.flatMap((page) => page.io.requests.filter((request) => request.kind === 'handshake'));
  const streams = () => world.pages.flatMap((page) => page.sse.exchanges);
  const sent = () => world.upstream.applied.map((message) => `${message.id} ${message.type} ${message.channel}`);
  return { ...world, opened, leader, stream, handshakes, streams, sent };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('cross-tab sharing', () => {
  it('five pages elect one leader: one handshake and one stream for all of them', async () => {
    const world = await pages(5);
    const leader = world.leader();
    assert.equal(world.handshakes().length, 1);
    assert.equal(world.streams().length, 1);
    assert.equal(world.stream().session, SESSION);
    assert.deepEqual(world.opened.map((each) => each.client.leader), world.opened.map((each) => each === leader));
    world.stream().deliver(frames.open());
    await world.settle();
    assert.deepEqual(world.opened.map((each) => each.client.state), Array(5).fill('open'));
    assert.deepEqual(world.opened.map((each) => each.client.transport), Array(5).fill('eventsource'));
  });

  it("the leader says so with a 'leader' event, and client.leader agrees in the listener; the followers hear none", async () => {
    const world = origin();
    const heard: string[] = [];
    for (const name of ['first', 'second']) {
      const client = world.page().client();
      client.on('leader', ({ leader }) => heard.push(`${name} ${leader} ${client.leader}`));
    }
    await world.settle();
    assert.deepEqual(heard, ['first true true']);
  });

  it('every message reaches every page once, in order', async () => {
    const world = await pages(5);
    world.stream().deliver(frames.open(), ...range(1, 20).map((seq) => frames.msg(seq)), frames.msg(7), frames.msg(21, 'elsewhere'));
    await world.settle();
    for (const each of world.opened) assert.deepEqual(each.received, range(1, 20));
  });

  it('the server sees one subscribe per channel per browser, and the unsubscribe only when the last page leaves it', async () => {
    const world = await pages(3);
    assert.deepEqual(world.sent(), ['1 subscribe room/42']);
    const [first, second, third] = world.opened as [Opened, Opened, Opened];
    const subscriptions = [first, second, third].map((each) => each.client.subscribe('news', () => undefined));
    await world.settle();
    assert.deepEqual(world.sent(), ['1 subscribe room/42', '2 subscribe news']);
    subscriptions[0]!.unsubscribe();
    subscriptions[2]!.unsubscribe();
    await world.settle();
    assert.equal(world.sent().length, 2, 'another page still wants news');
    subscriptions[1]!.unsubscribe();
    await world.settle();
    assert.deepEqual(world.sent().slice(2), ['3 unsubscribe news']);
  });

  it('a page that goes away takes its subscriptions with it; an unsubscribe in one page does not cut off another', async () => {
    const world = await pages(3);
    const follower = world.opened.find((each) => !each.client.leader)!;
    const other = world.opened.find((each) => !each.client.leader && each !== follower)!;
    const mine: number[] = [];
    follower.client.subscribe('private', (_data, { seq }) => mine.push(seq));
    const shared = other.client.subscribe('news', () => undefined);
    follower.client.subscribe('news', () => undefined);
    await world.settle();
    shared.unsubscribe();
    await world.settle();
    assert.ok(!world.sent().includes('4 unsubscribe news'));
    world.crash(follower.page);
    await world.settle();
    assert.deepEqual(world.sent().slice(-2).sort(), ['4 unsubscribe private', '5 unsubscribe news'].sort());
  });

  it('a follower publishes through the leader: applied once, resolved when acknowledged, refusals as errors', async () => {
    const world = await pages(3);
    const follower = world.opened.find((each) => !each.client.leader)!;
    await Promise.all([follower.client.publish('room/42', { text: 'hi' }), world.settle()]);
    assert.deepEqual(world.upstream.publishes(), [{ text: 'hi' }]);
    const refused = follower.client.publish('room/42', () => 'a function does not clone');
    await assert.rejects(refused, (error: CometError) => error.type === 'publish-refused' && error.code === 'bad-data');
  });

  it('a page that publishes as it starts, while another page leads, has it applied once and resolved (or refused when it does not clone)', async () => {
    const world = await pages(2);
    const late = world.page().client();
    let settled: string | undefined;
    late.publish('room/42', 'early').then(() => { settled = 'resolved'; }, (error: unknown) => { settled = String(error); });
    await world.settle();
    assert.equal(late.leader, false);
    assert.deepEqual(world.upstream.publishes(), ['early']);
    assert.equal(settled, 'resolved');
    // Data that does not clone, published as a page starts, is refused once the page can speak.
    const refused = world.page().client().publish('room/42', () => 'a function does not clone');
    await Promise.all([assert.rejects(refused, (error: CometError) => error.type === 'publish-refused' && error.code === 'bad-data'), world.settle()]);
    assert.deepEqual(world.upstream.publishes(), ['early']);
  });

  it('leader loss: the next page continues the same session from the last seq; nothing lost or doubled in any page', async () => {
    const world = await pages(5);
    const old = world.leader();
    world.stream().deliver(frames.open(), ...range(1, 10).map((seq) => frames.msg(seq)));
    await world.settle();
    world.crash(old.page);
    await world.settle();
    const next = world.leader();
    assert.notEqual(next, old);
    assert.equal(world.handshakes().length, 1, 'no second handshake');
    const resumed = world.stream();
    assert.equal(resumed.session, SESSION);
    assert.equal(resumed.since, 10);
    // The server sends from since + 1; a message the new leader had already is dropped by seq.
    resumed.deliver(frames.open(10), frames.msg(10), ...range(11, 20).map((seq) => frames.msg(seq)));
    await world.settle();
    for (const each of world.opened.filter((opened) => opened !== old)) assert.deepEqual(each.received, range(1, 20));
    assert.equal(world.streams().filter((exchange) => !exchange.done).length, 2, 'the old one died with its page');
  });

  it('leader loss with a publish in flight, applied but its answer lost: sent again with its id, applied once, resolved', async () => {
    const world = await pages(4);
    const old = world.leader();
    const follower = world.opened.find((each) => each !== old)!;
    world.upstream.holdAnswers = true;
    let settled: string | undefined;
    follower.client.publish('room/42', 'once').then(() => { settled = 'resolved'; }, () => { settled = 'rejected'; });
    await world.settle();
    assert.deepEqual(world.upstream.publishes(), ['once']);
    world.upstream.holdAnswers = false;
    world.crash(old.page);
    await world.settle();
    assert.equal(settled, 'resolved');
    assert.deepEqual(world.upstream.publishes(), ['once']);
    // The next messages of the session follow the server's acknowledged id.
    await Promise.all([follower.client.publish('room/42', 'next'), world.settle()]);
    assert.deepEqual(world.sent(), ['1 subscribe room/42', '2 publish room/42', '3 subscribe room/42', '4 publish room/42']);
    // The old request went again, first, as it was and with its id, on the new leader's own connection (its upstream route).
    const [again] = world.leader().page.io.requests.filter((request) => request.kind === 'send');
    assert.deepEqual(again?.messages.map((message) => `${message.id} ${message.type}`), ['2 publish']);
  });

  it('leader loss before its publishes were sent: the new leader sends them, once each, in order', async () => {
    const world = await pages(3);
    const old = world.leader();
    const followers = world.opened.filter((each) => each !== old);
    const results: string[] = [];
    // The old leader dies before it sees them: they wait in their pages, then go to the next leader.
    world.crash(old.page);
    const published = followers.flatMap((each, index) => ['a', 'b'].map((text) => each.client.publish('room/42', `${index}${text}`).then(() => results.push(`${index}${text}`))));
    await Promise.all([...published, world.settle()]);
    assert.deepEqual([...world.upstream.publishes()].sort(), ['0a', '0b', '1a', '1b']);
    assert.equal(results.length, 4);
  });

  it('a leader whose locks are taken from it while its code still runs (WebKit navigating a frame away) leaves: one leader, one stream', async () => {
    const world = await pages(3);
    const old = world.leader();
    world.stream().deliver(frames.open(), frames.msg(1));
    await world.settle();
    world.locks.revoke(old.page);
    await world.settle();
    assert.equal(old.client.state, 'closed');
    assert.equal(old.client.leader, false);
    const next = world.leader();
    assert.notEqual(next, old);
    assert.equal(world.streams().filter((exchange) => !exchange.done).length, 1, 'only the new leader streams');
    world.stream().deliver(frames.open(1), frames.msg(2));
    await world.settle();
    for (const each of world.opened.filter((opened) => opened !== old)) assert.deepEqual(each.received, [1, 2]);
  });

  it('a leader about to be frozen (Page Lifecycle freeze) hands the lead over: same session, nothing lost or doubled; resumed, it follows', async () => {
    const world = await pages(3);
    const old = world.leader();
    const leaderEvents: boolean[] = [];
    old.client.on('leader', ({ leader }) => leaderEvents.push(leader));
    world.stream().deliver(frames.open(), ...range(1, 10).map((seq) => frames.msg(seq)));
    await world.settle();
    old.page.platform.fire('document', 'freeze');
    await world.settle();
    assert.equal(old.client.leader, false);
    assert.deepEqual(leaderEvents, [false]);
    const next = world.leader();
    assert.notEqual(next, old);
    assert.equal(world.handshakes().length, 1, 'no second handshake');
    assert.equal(world.streams().filter((exchange) => !exchange.done).length, 1, 'the frozen page ended its stream');
    const resumed = world.stream();
    assert.equal(resumed.session, SESSION);
    assert.equal(resumed.since, 10);
    resumed.deliver(frames.open(10), ...range(11, 20).map((seq) => frames.msg(seq)));
    await world.settle();
    // The frozen page hears what was broadcast while it was frozen once it runs again.
    old.page.platform.fire('document', 'resume');
    await world.settle();
    for (const each of world.opened) assert.deepEqual(each.received, range(1, 20));
    assert.equal(world.leader(), next, 'back, it follows');
    assert.deepEqual(old.errors, []);
  });

  it('a publish in flight in a leader about to be frozen is applied once and resolved, by the next leader', async () => {
    const world = await pages(3);
    const old = world.leader();
    world.upstream.holdAnswers = true;
    let settled: string | undefined;
    old.client.publish('room/42', 'once').then(() => { settled = 'resolved'; }, (error: unknown) => { settled = `rejected ${(error as CometError).type}`; });
    await world.settle();
    assert.deepEqual(world.upstream.publishes(), ['once']);
    world.upstream.holdAnswers = false;
    old.page.platform.fire('document', 'freeze');
    await world.settle();
    assert.equal(settled, 'resolved');
    assert.deepEqual(world.upstream.publishes(), ['once']);
    await Promise.all([old.client.publish('room/42', 'next'), world.settle()]);
    assert.deepEqual(world.upstream.publishes(), ['once', 'next']);
  });

  it('leader loss when the session is gone: the next leader opens a new one, every page hears a gap, the pending publishes go once', async () => {
    const world = await pages(3);
    const old = world.leader();
    world.stream().deliver(frames.open(), frames.msg(1));
    await world.settle();
    world.upstream.gone.add(SESSION);
    world.upstream.session = 'session-two-0123456789abcdef';
    world.crash(old.page);
    const survivors = world.opened.filter((each) => each !== old);
    const gaps: unknown[] = [];
    for (const each of survivors) each.client.on('gap', (gap) => gaps.push(gap));
    const published = survivors[0]!.client.publish('room/42', 'after');
    await world.settle();
    // The new leader's connection heard the session is gone: it handshakes again after its backoff.
    world.leader().page.platform.advance(5000);
    await Promise.all([published, world.settle()]);
    assert.deepEqual(gaps, survivors.map(() => ({ reason: 'unknown-session' })));
    assert.equal(world.handshakes().length, 2);
    assert.deepEqual(world.upstream.applied.filter((message) => message.session === 'session-two-0123456789abcdef' && message.type === 'publish').map((message) => message.data), ['after']);
    assert.ok(world.upstream.applied.some((message) => message.session === 'session-two-0123456789abcdef' && message.type === 'subscribe' && message.channel === 'room/42'));
    const resumed = world.stream();
    assert.equal(resumed.session, 'session-two-0123456789abcdef');
    // The new session numbers its messages from its own seq: nothing of it is dropped as already seen.
    resumed.deliver(frames.open(), frames.msg(1));
    await world.settle();
    for (const each of survivors) assert.deepEqual(each.received, [1, 1]);
  });

  it('leader loss when the session is gone, its last request an unsubscribe a page has taken back: the new session keeps the channel', async () => {
    const world = await pages(3);
    const old = world.leader();
    const [first, second] = world.opened.filter((each) => each !== old);
    const subscription = first!.client.subscribe('room/7', () => undefined);
    await world.settle();
    // The leader's last request is the unsubscribe; the page that wants the channel again waits behind it.
    world.upstream.holdAnswers = true;
    subscription.unsubscribe();
    await world.settle();
    const received: number[] = [];
    second!.client.subscribe('room/7', (_data, { seq }) => received.push(seq));
    await world.settle();
    world.upstream.holdAnswers = false;
    world.upstream.gone.add(SESSION);
    world.upstream.session = 'session-two-0123456789abcdef';
    world.crash(old.page);
    await world.settle();
    world.leader().page.platform.advance(5000);
    await world.settle();
    // The old session's unsubscribe is not sent again on the new one, where it would undo the fresh subscribe.
    const room7 = world.upstream.applied.filter((message) => message.session === 'session-two-0123456789abcdef' && message.channel === 'room/7');
    assert.deepEqual(room7.map((message) => message.type), ['subscribe']);
    world.stream().deliver(frames.open(), frames.msg(1, 'room/7'));
    await world.settle();
    assert.deepEqual(received, [1]);
  });

  it('a page that joins later learns the state and transport, and can take over the same session from the last seq', async () => {
    const world = await pages(2);
    world.stream().deliver(frames.open(), ...range(1, 5).map((seq) => frames.msg(seq)));
    await world.settle();
    const late = world.page();
    const client = late.client();
    const states: string[] = [];
    const transports: string[] = [];
    client.on('statechange', ({ state }) => states.push(state));
    client.on('transport', ({ name }) => transports.push(name));
    const received: number[] = [];
    client.subscribe('room/42', (_data, { seq }) => received.push(seq));
    await world.settle();
    assert.equal(client.state, 'open');
    assert.equal(client.transport, 'eventsource');
    assert.deepEqual([states, transports], [['open'], ['eventsource']]);
    for (const each of world.opened) world.crash(each.page);
    await world.settle();
    assert.equal(client.leader, true);
    assert.equal(world.handshakes().length, 1, 'no second handshake');
    const resumed = late.sse.last();
    assert.deepEqual([resumed.session, resumed.since], [SESSION, 5]);
    resumed.deliver(frames.open(5), frames.msg(6));
    await world.settle();
    assert.deepEqual(received, [6]);
  });

  // A post (a structured clone and a hop between processes) costs more than all else a message
  // costs (bench/profile-client.mjs): a leader alone makes none per message.
  it('a page that leads alone posts nothing per message; a page that joins gets every message after the leader answers it, and can take over', async () => {
    const world = await pages(1);
    const { MESSAGE } = await import('../../src/crosstab/messages.ts');
    const relays = () => world.channels.posted.filter((message) => (message as unknown[])[0] === MESSAGE).length;
    world.stream().deliver(frames.open(), ...range(1, 5).map((seq) => frames.msg(seq)));
    await world.settle();
    assert.deepEqual(world.opened[0]!.received, range(1, 5));
    assert.equal(relays(), 0);
    const late = world.page();
    const received: number[] = [];
    late.client().subscribe('room/42', (_data, { seq }) => received.push(seq));
    await world.settle();
    world.stream().deliver(...range(6, 8).map((seq) => frames.msg(seq)));
    await world.settle();
    assert.equal(relays(), 3);
    assert.deepEqual(world.opened[0]!.received, range(1, 8));
    assert.deepEqual(received, [6, 7, 8]);
    world.crash(world.opened[0]!.page);
    await world.settle();
    const resumed = late.sse.last();
    assert.deepEqual([resumed.session, resumed.since], [SESSION, 8]);
  });

  it("the leader's own handlers get a message before it is posted to the other pages", async () => {
    const world = await pages(2);
    const leader = world.leader();
    world.stream().deliver(frames.open());
    await world.settle();
    const before = world.channels.posted.length;
    const postsBeforeHandler: number[] = [];
    leader.client.subscribe('room/42', () => postsBeforeHandler.push(world.channels.posted.length - before));
    world.stream().deliver(frames.msg(1));
    await world.settle();
    assert.deepEqual(postsBeforeHandler, [0]);
    assert.equal(world.channels.posted.length, before + 1, 'then posted to the other page');
    assert.deepEqual(world.opened.map((each) => each.received), [[1], [1]]);
  });

  it('without Web Locks or BroadcastChannel each page connects by itself, and says so once through the logger', async () => {
    for (const missing of [{ withLocks: false }, { withChannel: false }]) {
      const world = origin(missing);
      const pagesOpened = [world.page(), world.page()];
      for (const page of pagesOpened) {
        page.client();
        page.client();
      }
      await world.settle();
      assert.equal(pagesOpened.flatMap((page) => page.io.requests.filter((request) => request.kind === 'handshake')).length, 2);
      for (const page of pagesOpened) assert.equal(page.logs.filter((line) => line.includes('cross-tab')).length, 1);
    }
  });

  it('a page refused Web Locks connects by itself, says so once, and works as a connection of its own', async () => {
    const world = origin({ withLocks: 'refused' });
    const page = world.page();
    const client = page.client();
    const received: number[] = [];
    client.subscribe('room/42', (_data, { seq }) => received.push(seq));
    await world.settle();
    assert.equal(page.logs.filter((line) => line.includes('cross-tab sharing unavailable')).length, 1);
    assert.equal(client.leader, true);
    page.sse.last().deliver(frames.open(), frames.msg(1));
    await Promise.all([client.publish('room/42', 'mine'), world.settle()]);
    assert.deepEqual([client.state, received, world.upstream.publishes()], ['open', [1], ['mine']]);
  });

  it('the lock and channel names carry the endpoint URL, resolved against the page', async () => {
    const world = await pages(2);
    assert.ok(world.locks.held().includes('cometkit http://page.test/comet'));
    assert.ok([...world.channels.open].every((channel) => channel.name === 'cometkit http://page.test/comet'));
  });

  it('the last client of the leading page closing hands the lead over; its subscriptions go, the others stay', async () => {
    const world = await pages(3);
    const old = world.leader();
    old.client.close();
    await world.settle();
    const next = world.leader();
    assert.notEqual(next, old);
    world.stream().deliver(frames.open(), frames.msg(1));
    await world.settle();
    for (const each of world.opened.filter((opened) => opened !== old)) assert.deepEqual(each.received, [1]);
    assert.deepEqual(old.received, []);
  });
});
