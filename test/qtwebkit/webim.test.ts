// The demo's WebIM in QtWebKit 5.212: the page loads the legacy bundle (nomodule) and chat.js (ES5)
// runs as it is. A person signed in as `qtwebkit` (the nickname put in the tab's sessionStorage,
// as the login form does) types a message and sends it; a second person, a raw protocol client
// here, hears it and answers, and the answer shows in the page's conversation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startDemo, type Demo } from '../../demo/app.mjs';
import { runPage } from '../../scripts/lib/qtwebkit.mjs';
import { PollClient, type Msg } from '../demo/poll-client.ts';

/** Runs in the page before its scripts: signs in, sends once connected, reports once the answer shows. */
const PERSON = `
sessionStorage.setItem('cometkit-demo', JSON.stringify({ nick: 'qtwebkit', rooms: ['lobby'], current: 'lobby', transport: '' }));
(function () {
  var sent = false;
  var timer = setInterval(function () {
    var demo = window.cometkitDemo;
    if (!demo || demo.state() !== 'open') return;
    if (!sent) {
      sent = true;
      document.getElementById('text').value = 'hello from QtWebKit <b>';
      var submit = document.createEvent('Event');
      submit.initEvent('submit', true, true);
      document.getElementById('send-form').dispatchEvent(submit);
    }
    var texts = [].map.call(document.querySelectorAll('#log .text'), function (node) { return node.textContent; });
    if (texts.indexOf('hello from alice') < 0) return;
    clearInterval(timer);
    window.cometkitResult = { texts: texts, transport: demo.transport(), state: demo.state(), members: demo.members('lobby') };
    window.status = 'cometkit-done';
  }, 100);
})();`;

interface PageState { texts: string[]; transport: string; state: string; members: string[] }

const kind = (name: string, extra: (message: Msg) => boolean = () => true) => (message: Msg) => message.data.kind === name && extra(message);

describe('the WebIM in QtWebKit 5.212', () => {
  let demo: Demo;
  before(async () => {
    execFileSync('bash', ['scripts/ensure-browsers.sh'], { stdio: 'inherit', env: { ...process.env, BROWSERS: 'qtwebkit' } });
    demo = await startDemo({ port: 0, leaveGraceMs: 300, cometOptions: { holdMs: 300, heartbeatMs: 1000 } });
  });
  after(() => demo.close());

  test('a person chats from QtWebKit with someone elsewhere', { timeout: 90000 }, async () => {
    const alice = new PollClient(`${demo.url}comet`);
    await alice.handshake();
    assert.deepEqual(await alice.send({ type: 'subscribe', channel: 'room/lobby' }, { type: 'subscribe', channel: 'member/lobby/alice/t1' }), []);
    await alice.next(kind('history'), 'alice history');

    const page = runPage(demo.url, { init: PERSON, timeoutMs: 60000 });
    const typed = await alice.next(kind('msg', (message) => message.data.nick === 'qtwebkit'), 'the message typed in QtWebKit', 30000);
    assert.equal(typed.data.text, 'hello from QtWebKit <b>');
    assert.deepEqual(await alice.send({ type: 'publish', channel: 'room/lobby', data: { nick: 'alice', text: 'hello from alice' } }), []);

    const { result } = await page;
    const seen = result as PageState;
    assert.deepEqual(seen.texts, ['hello from QtWebKit <b>', 'hello from alice'], 'both messages, as text');
    assert.equal(seen.transport, 'eventsource');
    assert.equal(seen.state, 'open');
    assert.deepEqual([...seen.members].sort(), ['alice', 'qtwebkit']);
  });
});
