// `npm run demo:screenshots`: the README's pictures of the WebIM, taken in headless Chromium with
// two people chatting: docs/webim-desktop.png (after a cut connection and its resume) and
// docs/webim-phone.png (390 px wide). Needs the build.
import { mkdirSync } from 'node:fs';
import { startDemo } from '../demo/app.mjs';
import { launchChromium } from './lib/browsers.mjs';

const demo = await startDemo({ port: 0 });
const browser = await launchChromium();
const problems = [];

async function person(nick, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('console', (message) => {
    // The cut connection shows as an incomplete response: that one is on purpose.
    if (message.type() === 'error' && !message.text().includes('ERR_INCOMPLETE_CHUNKED_ENCODING')) problems.push(`${nick}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${nick}: ${error.message}`));
  await page.goto(demo.url);
  await page.getByRole('textbox', { name: 'Nickname' }).fill(nick);
  await page.getByRole('button', { name: 'Join' }).first().click();
  await page.waitForFunction(() => window.cometkitDemo.state() === 'open');
  return page;
}

async function say(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

const lastText = (page) => page.evaluate(() => window.cometkitDemo.events('lobby').filter((event) => event.kind === 'msg').at(-1)?.text);

try {
  mkdirSync('docs', { recursive: true });
  const alice = await person('alice', { width: 1200, height: 760 });
  const bob = await person('bob', { width: 390, height: 844 });
  await alice.waitForFunction(() => window.cometkitDemo.members('lobby').length === 2);
  await say(alice, 'Hi Bob! This chat runs over plain HTTP push.');
  await bob.waitForFunction(() => window.cometkitDemo.events('lobby').some((event) => event.kind === 'msg'));
  await say(bob, 'Hi Alice. Try the "Cut connection" button <b>while</b> I type.');
  await alice.waitForFunction(() => window.cometkitDemo.events('lobby').filter((event) => event.kind === 'msg').length === 2);

  // Cut Alice's stream on the server, talk while she is away, and watch her resume with 0 lost.
  await alice.getByRole('button', { name: 'Cut connection' }).click();
  await alice.waitForFunction(() => window.cometkitDemo.stats.reconnects >= 1);
  await say(bob, 'Sent while your connection was cut: nothing is lost.');
  await alice.waitForFunction(() => window.cometkitDemo.state() === 'open' && window.cometkitDemo.events('lobby').length >= 5);
  await say(alice, 'Got it: reconnected and resumed from my last seq.');
  await bob.waitForFunction(() => window.cometkitDemo.events('lobby').filter((event) => event.kind === 'msg').length === 4);
  await alice.waitForFunction(() => window.cometkitDemo.events('lobby').filter((event) => event.kind === 'msg').length === 4);
  await alice.getByRole('textbox', { name: 'Message' }).focus();
  await alice.screenshot({ path: 'docs/webim-desktop.png' });
  await bob.screenshot({ path: 'docs/webim-phone.png', fullPage: true });

  // Force each transport in turn on Bob's page: each must connect and carry a message under the CSP.
  for (const name of ['eventsource', 'xhr-streaming', 'multipart', 'iframe', 'long-polling', 'jsonp']) {
    await bob.getByLabel('Transport', { exact: true }).selectOption(name);
    await bob.waitForFunction((wanted) => window.cometkitDemo.transport() === wanted && window.cometkitDemo.state() === 'open', name);
    await say(alice, `over ${name}`);
    await bob.waitForFunction((text) => window.cometkitDemo.events('lobby').some((event) => event.text === text), `over ${name}`);
  }
  const lost = await alice.evaluate(() => window.cometkitDemo.stats.lost);
  process.stdout.write(`screenshots: docs/webim-desktop.png, docs/webim-phone.png; lost ${lost}; last message "${await lastText(bob)}"\n`);
} finally {
  await browser.close();
  await demo.close();
}
if (problems.length > 0) {
  process.stderr.write(`page errors:\n${problems.join('\n')}\n`);
  process.exitCode = 1;
}
