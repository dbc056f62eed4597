// The demo server (demo/app.mjs): it serves its pages, and people chat through it with presence,
// history since they joined, and a cut connection that loses nothing. Needs dist/ (npm test builds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, type Demo } from '../../demo/app.mjs';
import { PollClient, type Msg } from './poll-client.ts';

let demo: Demo;
let endpoint = '';

before(async () => {
  // Short holds keep each long poll quick; nothing here waits on a timer to pass.
  demo = await startDemo({ port: 0, cometOptions: { holdMs: 300, heartbeatMs: 1000 } });
  endpoint = `${demo.url}comet`;
});
after(() => demo.close());

/** A person in a room: the two subscriptions the WebIM page makes. */
async function join(nick: string, room: string): Promise<PollClient> {
  const client = new PollClient(endpoint);
  await client.handshake();
  assert.deepEqual(await client.send({ type: 'subscribe', channel: `room/${room}` }, { type: 'subscribe', channel: `member/${room}/${nick}` }), []);
  return client;
}
const kind = (name: string, extra: (message: Msg) => boolean = () => true) => (message: Msg) => message.data.kind === name && extra(message);
const textsOf = (history: Msg) => (history.data.events as { kind: string; text?: string }[]).filter((event) => event.kind === 'msg').map((event) => event.text);

describe('the demo server', () => {
  test('serves the WebIM, the compatibility page and the built client, and nothing else', async () => {
    for (const [path, type] of [['', 'text/html'], ['compat.html', 'text/html'], ['chat.js', 'text/javascript'], ['dist/cometkit.umd.min.js', 'text/javascript'], ['dist/cometkit.mjs', 'text/javascript']] as const) {
      const response = await fetch(`${demo.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(type), path);
      await response.arrayBuffer();
    }
    const page = await fetch(demo.url);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /<script src="\/dist\/cometkit\.umd\.min\.js"/);
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

    assert.deepEqual(await alice.send({ type: 'publish', channel: 'room/lobby', data: { text: 'hi bob <b>' } }), []);
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
    await carol.send({ type: 'publish', channel: 'room/lobby', data: { leave: true } }, { type: 'unsubscribe', channel: 'member/lobby/carol' });
    await alice.next(kind('leave', (message) => message.data.nick === 'carol'), 'carol left');
    assert.deepEqual(demo.chat.snapshot().lobby, ['alice', 'bob']);
  });

  test('refuses what the chat does not allow: bad names, rooms not joined, oversized text', async () => {
    const mallory = await join('mallory', 'side');
    assert.deepEqual(await mallory.send(
      { type: 'subscribe', channel: 'member/side/no~tilde' },
      { type: 'subscribe', channel: 'news' },
      { type: 'publish', channel: 'room/lobby', data: { text: 'not a member here' } },
      { type: 'publish', channel: 'room/side', data: { text: 'x'.repeat(501) } },
      { type: 'publish', channel: 'room/side', data: { html: '<img>' } },
    ), ['forbidden', 'forbidden', 'forbidden', 'forbidden', 'forbidden']);
    const cut = await fetch(`${demo.url}demo/cut?nick=${encodeURIComponent('<script>')}`, { method: 'POST' });
    assert.equal(cut.status, 400);
    assert.doesNotMatch(await cut.text(), /script/);
  });

  test('cutting a connection on the server loses nothing: the client resumes from its seq', async () => {
    const dana = await join('dana', 'cuts');
    await dana.next(kind('history'), 'dana history');
    const requests = () => demo.comet.inspect().perSession.find((session) => session.subscriptions.includes('member/cuts/dana'))?.downstreamRequests ?? 0;
    const before = requests();
    const held = new AbortController();
    const poll = dana.poll(held.signal);
    // Cut only once the server holds the poll (nothing to send yet).
    while (requests() === before) await new Promise((resolve) => setTimeout(resolve, 10));
    const answer = await fetch(`${demo.url}demo/cut?nick=dana`, { method: 'POST' });
    assert.deepEqual(await answer.json(), { cut: 1 });
    await assert.rejects(poll, 'the held poll was cut');
    const erin = await join('erin', 'cuts');
    await erin.send({ type: 'publish', channel: 'room/cuts', data: { text: 'sent while dana was cut' } });
    const message = await dana.next(kind('msg'), 'the message after the cut');
    assert.equal(message.data.text, 'sent while dana was cut');
  });
});
