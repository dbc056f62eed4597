// The demo server (demo/app.mjs): it serves its pages, and people chat through it with presence,
// history since they joined, and a cut connection that loses nothing. Needs dist/ (npm test builds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, type Demo } from '../../demo/app.mjs';
import { PollClient, type Msg } from './poll-client.ts';

let demo: Demo;
let endpoint = '';

before(async () => {
  // Short holds keep each long poll quick, and a short grace each leave without a `leave: true`.
  demo = await startDemo({ port: 0, leaveGraceMs: 300, cometOptions: { holdMs: 300, heartbeatMs: 1000 } });
  endpoint = `${demo.url}comet`;
});
after(() => demo.close());

/** A person in a room, in one tab: the two subscriptions the WebIM page makes (on a new session unless given one). */
async function join(nick: string, room: string, tab = 't1', client?: PollClient): Promise<PollClient> {
  if (!client) {
    client = new PollClient(endpoint);
    await client.handshake();
  }
  assert.deepEqual(await client.send({ type: 'subscribe', channel: `room/${room}` }, { type: 'subscribe', channel: `member/${room}/${nick}/${tab}` }), []);
  return client;
}
const say = (client: PollClient, room: string, nick: string, text: string) => client.send({ type: 'publish', channel: `room/${room}`, data: { nick, text } });
const kind = (name: string, extra: (message: Msg) => boolean = () => true) => (message: Msg) => message.data.kind === name && extra(message);
const textsOf = (history: Msg) => (history.data.events as { kind: string; text?: string }[]).filter((event) => event.kind === 'msg').map((event) => event.text);

describe('the demo server', () => {
  test('serves the WebIM, the compatibility page and the built client, and nothing else', async () => {
    for (const [path, type] of [['', 'text/html'], ['compat.html', 'text/html'], ['chat.js', 'text/javascript'], ['dist/cometkit.umd.min.js', 'text/javascript'], ['dist/cometkit.legacy.umd.min.js', 'text/javascript'], ['dist/cometkit.mjs', 'text/javascript']] as const) {
      const response = await fetch(`${demo.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(type), path);
      await response.arrayBuffer();
    }
    const page = await fetch(demo.url);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    // The modern bundle where modules run, the legacy one (ES5) where they do not.
    assert.match(html, /<script type="module" src="\/dist\/cometkit\.umd\.min\.js"/);
    assert.match(html, /<script src="\/dist\/cometkit\.legacy\.umd\.min\.js" nomodule/);
    for (const path of ['../package.json', 'dist/..%2f..%2fpackage.json', 'demo/app.mjs', 'missing.html']) {
      const response = await fetch(`${demo.url}${path}`);
      assert.equal(response.status, 404, path);
      await response.arrayBuffer();
    }
  });

  test('two people chat: presence, join notices, messages, and history since joining after a reload', async () => {
    const alice = await join('alice', 'lobby');
    const aliceHistory = await alice.next(kind('history'), 'alice history');
    assert.deepEqual(aliceHistory.data.members, ['alice']);

    const bob = await join('bob', 'lobby');
    await alice.next(kind('join', (message) => message.data.nick === 'bob'), 'bob joined');
    await alice.next(kind('presence', (message) => (message.data.members as string[]).length === 2), 'presence of two');
    assert.deepEqual((await bob.next(kind('history'), 'bob history')).data.members, ['alice', 'bob']);

    assert.deepEqual(await say(alice, 'lobby', 'alice', 'hi bob <b>'), []);
    const heard = await bob.next(kind('msg'), 'the message');
    assert.equal(heard.data.nick, 'alice');
    assert.equal(heard.data.text, 'hi bob <b>', 'text travels as data, never as markup');

    // Bob reloads: a new session, same nickname; his history since he joined comes back.
    const bobAgain = await join('bob', 'lobby');
    assert.deepEqual(textsOf(await bobAgain.next(kind('history'), 'history after reload')), ['hi bob <b>']);
    // Carol arrives after the message: her history starts at her own arrival.
    const carol = await join('carol', 'lobby');
    assert.deepEqual(textsOf(await carol.next(kind('history'), 'carol history')), []);
    assert.deepEqual(demo.chat.snapshot().lobby, ['alice', 'bob', 'carol']);

    // Leaving for good: a leave notice once the nickname's last session unsubscribes.
    await carol.send({ type: 'publish', channel: 'room/lobby', data: { nick: 'carol', leave: true } }, { type: 'unsubscribe', channel: 'member/lobby/carol/t1' });
    await alice.next(kind('leave', (message) => message.data.nick === 'carol'), 'carol left');
    assert.deepEqual(demo.chat.snapshot().lobby, ['alice', 'bob']);
  });

  test('refuses what the chat does not allow: bad names, rooms not joined, oversized text', async () => {
    const mallory = await join('mallory', 'side');
    const refused = [
      { type: 'subscribe', channel: 'member/side/no~tilde/t1' },
      { type: 'subscribe', channel: 'member/side/mallory' }, // no tab
      { type: 'subscribe', channel: 'member/side/mallory/T1' }, // tab ids are lower case
      { type: 'subscribe', channel: `member/side/mallory/${'a'.repeat(17)}` },
      { type: 'subscribe', channel: 'member/side/mallory/t1/extra' },
      { type: 'subscribe', channel: 'news' },
      { type: 'publish', channel: 'room/lobby', data: { nick: 'mallory', text: 'not a member here' } },
      { type: 'publish', channel: 'room/side', data: { nick: 'mallory', text: 'x'.repeat(501) } },
      { type: 'publish', channel: 'room/side', data: { nick: 'mallory', html: '<img>' } },
      { type: 'publish', channel: 'room/side', data: { text: 'no nickname' } },
      { type: 'publish', channel: 'room/side', data: { nick: ['mallory'], text: 'not a string' } },
      { type: 'publish', channel: 'member/side/mallory/t1', data: { nick: 'mallory', text: 'not a room channel' } },
    ];
    assert.deepEqual(await mallory.send(...refused), refused.map(() => 'forbidden'));
    const cut = await fetch(`${demo.url}demo/cut?nick=${encodeURIComponent('<script>')}`, { method: 'POST' });
    assert.equal(cut.status, 400);
    assert.doesNotMatch(await cut.text(), /script/);
  });

  test('cutting a connection on the server loses nothing: the client resumes from its seq', async () => {
    const dana = await join('dana', 'cuts');
    await dana.next(kind('history'), 'dana history');
    const requests = () => demo.comet.inspect().perSession.find((session) => session.subscriptions.includes('member/cuts/dana/t1'))?.downstreamRequests ?? 0;
    const before = requests();
    const held = new AbortController();
    const poll = dana.poll(held.signal);
    // Cut only once the server holds the poll (nothing to send yet).
    while (requests() === before) await new Promise((resolve) => setTimeout(resolve, 10));
    const answer = await fetch(`${demo.url}demo/cut?nick=dana`, { method: 'POST' });
    assert.deepEqual(await answer.json(), { cut: 1 });
    await assert.rejects(poll, 'the held poll was cut');
    const erin = await join('erin', 'cuts');
    await say(erin, 'cuts', 'erin', 'sent while dana was cut');
    const message = await dana.next(kind('msg'), 'the message after the cut');
    assert.equal(message.data.text, 'sent while dana was cut');
  });

  describe('tabs sharing one session (cross-tab sharing in the client)', () => {
    test('two tabs of one session as two people: each publish is attributed to its own nickname', async () => {
      const shared = await join('ann', 'tabs', 'taba');
      assert.deepEqual((await shared.next(kind('history'), 'ann history')).channel, 'member/tabs/ann/taba');
      await join('ben', 'tabs', 'tabb', shared);
      await shared.next(kind('join', (message) => message.data.nick === 'ben'), 'ben joined');
      assert.deepEqual(demo.chat.snapshot().tabs, ['ann', 'ben']);
      assert.deepEqual(demo.chat.sessionsOf('ann'), demo.chat.sessionsOf('ben'), 'one session holds both');

      assert.deepEqual(await say(shared, 'tabs', 'ann', 'from ann'), []);
      assert.deepEqual(await say(shared, 'tabs', 'ben', 'from ben'), []);
      const first = await shared.next(kind('msg'), 'ann message');
      const second = await shared.next(kind('msg'), 'ben message');
      assert.deepEqual([first.data.nick, first.data.text], ['ann', 'from ann']);
      assert.deepEqual([second.data.nick, second.data.text], ['ben', 'from ben']);
    });

    test("the second tab's subscribe gets the history on its own tab channel only", async () => {
      const shared = await join('cat', 'hist', 'one');
      await shared.next(kind('history'), 'first tab history');
      assert.deepEqual(await say(shared, 'hist', 'cat', 'before the second tab'), []);
      await shared.next(kind('msg'), 'the message');

      // The second tab of the same person: the room channel is already subscribed (a no-op), the
      // tab channel is new, and the history since cat joined comes there.
      await join('cat', 'hist', 'two', shared);
      const history = await shared.next(kind('history'), 'second tab history');
      assert.equal(history.channel, 'member/hist/cat/two');
      assert.deepEqual(textsOf(history), ['before the second tab']);
      assert.deepEqual(history.data.members, ['cat']);

      // A third tab as someone else: its own history (from its own arrival), on its own channel.
      await join('dot', 'hist', 'three', shared);
      const third = await shared.next(kind('history'), 'third tab history');
      assert.equal(third.channel, 'member/hist/dot/three');
      assert.deepEqual(textsOf(third), []);
      // Nothing else came: no history on another channel, and no join notice for cat's second tab.
      const rest = await shared.drain();
      assert.deepEqual(rest.filter((message) => message.data.kind !== 'presence'), [], 'only presence');
    });

    test('one tab leaving does not take the nickname out while another tab of the session holds it', async () => {
      const watcher = await join('watcher', 'stay');
      const shared = await join('eve', 'stay', 'first');
      await join('eve', 'stay', 'second', shared);
      await watcher.next(kind('join', (message) => message.data.nick === 'eve'), 'eve joined');
      await watcher.drain();

      // The first tab leaves the room for good: its publish, then its unsubscribe.
      assert.deepEqual(await shared.send(
        { type: 'publish', channel: 'room/stay', data: { nick: 'eve', leave: true } },
        { type: 'unsubscribe', channel: 'member/stay/eve/first' },
      ), []);
      assert.deepEqual(demo.chat.snapshot().stay, ['eve', 'watcher']);
      // The second tab still speaks as eve, and the history kept its start.
      assert.deepEqual(await say(shared, 'stay', 'eve', 'still here'), []);
      const seen = await watcher.drain();
      assert.deepEqual(seen.map((message) => [message.data.kind, message.data.nick, message.data.text]), [['msg', 'eve', 'still here']], 'no leave notice');
      await join('eve', 'stay', 'third', shared);
      assert.deepEqual(textsOf(await shared.next(kind('history', (message) => message.channel === 'member/stay/eve/third'), 'history of a new tab')), ['still here']);

      // The last tabs go (the session still has others' channels): after the grace, eve leaves the room, once.
      await shared.send({ type: 'unsubscribe', channel: 'member/stay/eve/second' }, { type: 'unsubscribe', channel: 'member/stay/eve/third' });
      await watcher.next(kind('leave', (message) => message.data.nick === 'eve'), 'eve left');
      assert.deepEqual(demo.chat.snapshot().stay, ['watcher']);
      assert.deepEqual(await say(shared, 'stay', 'eve', 'gone'), ['forbidden']);
    });

    test('a publish naming a nickname the session does not hold (there) is refused', async () => {
      const fay = await join('fay', 'own', 'tab1');
      await join('gus', 'other', 'tab1', fay);
      const hal = await join('hal', 'own');
      assert.deepEqual(await fay.send(
        { type: 'publish', channel: 'room/own', data: { nick: 'hal', text: 'as someone else in the room' } },
        { type: 'publish', channel: 'room/own', data: { nick: 'gus', text: 'as my nickname in another room' } },
        { type: 'publish', channel: 'room/own', data: { nick: 'nobody', text: 'as no one' } },
        { type: 'publish', channel: 'room/own', data: { nick: 'hal', leave: true } },
        { type: 'publish', channel: 'room/own', data: { nick: 'fay', text: 'as myself' } },
      ), ['forbidden', 'forbidden', 'forbidden', 'forbidden']);
      const heard = await hal.next(kind('msg'), 'the one message allowed');
      assert.deepEqual([heard.data.nick, heard.data.text], ['fay', 'as myself']);
    });

    test('a tab that reloads (its channel goes, a new one comes within the grace) is no news to the room', async () => {
      const watcher = await join('looker', 'reload');
      const shared = await join('ivy', 'reload', 'before');
      await join('jon', 'reload', 'other', shared); // another tab of the session stays
      await watcher.next(kind('join', (message) => message.data.nick === 'jon'), 'jon joined');
      await watcher.drain();

      // The leading tab unsubscribes the channels of a tab that went; the reloaded page subscribes anew.
      await shared.send({ type: 'unsubscribe', channel: 'member/reload/ivy/before' });
      assert.deepEqual(demo.chat.snapshot().reload, ['ivy', 'jon', 'looker'], 'still listed in the grace');
      await join('ivy', 'reload', 'after', shared);
      const history = await shared.next(kind('history', (message) => message.channel === 'member/reload/ivy/after'), 'history after the reload');
      assert.deepEqual((history.data.events as { kind: string; nick: string }[]).map((event) => `${event.kind} ${event.nick}`), ['join ivy', 'join jon']);
      await new Promise((resolve) => setTimeout(resolve, 400)); // past the grace
      assert.deepEqual((await watcher.drain()).filter((message) => message.data.kind !== 'presence'), [], 'no leave or join notice');

      // Gone for longer than the grace: a leave notice, then the member list without ivy.
      await shared.send({ type: 'unsubscribe', channel: 'member/reload/ivy/after' });
      await watcher.next(kind('leave', (message) => message.data.nick === 'ivy'), 'ivy left after the grace');
      const presence = await watcher.next(kind('presence'), 'presence without ivy');
      assert.deepEqual(presence.data.members, ['jon', 'looker']);
    });
  });
});
