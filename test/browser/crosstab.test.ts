// Cross-tab sharing in each engine, against the reference server: five same-origin pages share one
// downstream connection; messages reach each page once and in order; the leading page goes away
// (its frame removed, or navigated away) in the middle of a stream of 1,000 messages and a burst
// of publishes, with a batch applied by the server but not yet answered, and every page still gets each message once, in order, and every publish is
// applied once, counted at the server (test/support/crosstab-fixture.mjs).
//
// The pages are iframes of the test page, each loading test/browser/pages/crosstab-frame.html,
// which uses the built UMD bundle as an application would. Iframes, not tabs or popups: the test
// runner drives one page per engine and WebKit's driver has no second window for it; frames of one
// origin share Web Locks and BroadcastChannel exactly as tabs do (both are scoped to the origin and
// the storage partition, and same-origin frames of a first-party page are in the tabs' partition).
// A leader about to be frozen hands the lead over on the Page Lifecycle `freeze` event, which the
// test dispatches itself (see that test).
import { expect } from 'chai';
import { fixtureEnv, sequenceProblems, waitFor } from './support.ts';

interface PageState {
  indexes: number[];
  seqs: number[];
  applied: number[];
  refused: string[];
  errors: string[];
  leaderEvents: number;
}
interface FrameWindow extends Window {
  page?: PageState;
  client?: { leader: boolean; state: string };
  burst?: (tag: string, count: number) => void;
}
interface RoomStats {
  /** The last downstream requests that ended: resource, since, duration. */
  log?: string[];
  handshakes: number;
  downstreamOpen: number;
  downstreamMax: number;
  downstreamTotal: number;
  downstreamSessions: string[];
  applied: { channel: string; data: { tag: string; index: number; forged?: boolean } }[];
  subscribes: string[];
  inspect: { sessions: number; perSession: { subscriptions: string[] }[] };
}

interface Mocha { timeout(ms: number): void }

const run = Math.random().toString(36).slice(2, 8);
let rooms = 0;
const frames: HTMLIFrameElement[] = [];

const win = (frame: HTMLIFrameElement): FrameWindow | null => frame.contentWindow;
const state = (frame: HTMLIFrameElement) => win(frame)?.page;

async function stats(room: string): Promise<RoomStats> {
  return (await fetch(`/__fixture/xtab/stats?room=${room}`)).json() as Promise<RoomStats>;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20000) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A page; `transports` pins its transports (default: the negotiator's choice). */
function openPage(endpoint: string, channel: string, share = true, transports = ''): Promise<HTMLIFrameElement> {
  const frame = document.createElement('iframe');
  frame.src = `/test/browser/pages/crosstab-frame.html?endpoint=${encodeURIComponent(endpoint)}&channel=${channel}&share=${share}&transports=${transports}`;
  frames.push(frame);
  const loaded = new Promise<HTMLIFrameElement>((resolve) => { frame.addEventListener('load', () => { resolve(frame); }, { once: true }); });
  document.body.append(frame);
  return loaded;
}

/** A room of its own on the fixture, `count` pages on it, all open with one leader, and the channel subscribed at the server. */
async function openRoom(count: number, transports = '') {
  const room = `${run}-${++rooms}`;
  const endpoint = `/xtab/${room}/comet`;
  const channel = 'stream';
  const pages = await Promise.all(Array.from({ length: count }, () => openPage(endpoint, channel, true, transports)));
  await waitFor(() => pages.every((frame) => win(frame)?.client?.state === 'open'), `${count} pages open`);
  await waitFor(() => pages.filter((frame) => win(frame)?.client?.leader).length === 1, 'one leader');
  await until(async () => (await stats(room)).inspect.perSession.some((session) => session.subscriptions.includes(channel)), 'the subscription at the server');
  return { room, endpoint, channel, pages };
}

describe('cross-tab sharing (five same-origin iframes, the built UMD bundle)', () => {
  afterEach(() => {
    for (const frame of frames.splice(0)) frame.remove();
  });

  it('five pages share one downstream connection; each message reaches each page once, in order', async () => {
    const { room, channel, pages } = await openRoom(5);
    await fetch(`/__fixture/xtab/publish?room=${room}&channel=${channel}&count=200`);
    await waitFor(() => pages.every((frame) => (state(frame)?.indexes.length ?? 0) >= 200), '200 messages in every page');
    for (const frame of pages) expect(sequenceProblems(state(frame)!.indexes, 200)).to.deep.equal([]);
    const counted = await stats(room);
    expect(counted.handshakes, 'handshakes').to.equal(1);
    expect(counted.downstreamMax, 'downstream requests open at once').to.equal(1);
    expect(counted.downstreamSessions, 'sessions with a downstream request').to.have.length(1);
    expect(counted.inspect.sessions, 'sessions').to.equal(1);
    expect(counted.subscribes.filter((name) => name === channel), 'subscribes of the channel').to.have.length(1);
    expect(pages.map((frame) => state(frame)!.leaderEvents).reduce((a, b) => a + b)).to.equal(1);
  });

  // The negotiator's choice (a stream, or long polling where its memory per origin says so after
  // the transport suites), and long polling forced: a poll per answer, so many more requests in
  // flight when the leader goes (it found that WebKit lets a navigated-away frame's code run on).
  for (const [how, transports] of [['removed', ''], ['navigated away', ''], ['removed', 'long-polling'], ['navigated away', 'long-polling']] as const) {
    it(`the leading page ${how}${transports && ` (${transports})`} mid-stream (1,000 messages) and mid-burst (20 publishes per page): nothing lost, doubled or applied twice`, async function (this: Mocha) {
      this.timeout(120000);
      const { room, channel, pages } = await openRoom(5, transports);
      await fetch(`/__fixture/xtab/stream?room=${room}&channel=${channel}&count=1000&everyMs=3`);
      await waitFor(() => pages.every((frame) => (state(frame)?.indexes.length ?? 0) >= 150), 'the stream under way in every page');
      const leader = pages.find((frame) => win(frame)?.client?.leader)!;
      const survivors = pages.filter((frame) => frame !== leader);
      // Answers held back: the leader goes once the server applied a batch it has not answered yet.
      await fetch(`/__fixture/xtab/slow-sends?room=${room}&ms=400`);
      pages.forEach((frame, index) => { win(frame)!.burst!(`page${index}`, 20); });
      await until(async () => (await stats(room)).applied.length > 0, 'a batch of the burst applied');
      const appliedBefore = (await stats(room)).applied.length;
      if (how === 'removed') leader.remove();
      else leader.src = 'about:blank';

      const summary = () => survivors.map((frame) => {
        const page = state(frame)!;
        return `${win(frame)!.client!.leader ? 'leader' : 'follower'} ${win(frame)!.client!.state} ${page.indexes.length} messages, last ${page.indexes.at(-1) ?? '-'}, errors ${page.errors.slice(-3).join('; ') || 'none'}`;
      }).join(' | ');
      await waitFor(() => survivors.every((frame) => state(frame)!.indexes.length >= 1000), '1,000 messages in every remaining page', 60000)
        .catch(async (error: unknown) => {
          const { handshakes, downstreamTotal, downstreamMax, inspect, log } = await stats(room);
          throw new Error(`${String(error)}: ${summary()}; server: ${handshakes} handshakes, ${downstreamTotal} downstream requests, at most ${downstreamMax} at once, ${JSON.stringify(inspect)} last downstream requests ${JSON.stringify(log)}`);
        });
      await waitFor(() => survivors.every((frame) => state(frame)!.applied.length + state(frame)!.refused.length === 20), 'every publish settled', 30000);
      await waitFor(() => survivors.some((frame) => win(frame)!.client!.leader), 'a new leader');
      for (const frame of survivors) {
        expect(sequenceProblems(state(frame)!.indexes, 1000)).to.deep.equal([]);
        expect(state(frame)!.refused).to.deep.equal([]);
      }
      const counted = await stats(room);
      console.log(`leader ${how}${transports && ` (${transports})`}: ${appliedBefore} of 100 publishes applied, unanswered, when it went; ${counted.applied.filter(({ data }) => data.tag === `page${pages.indexOf(leader)}`).length}/20 of its publishes applied; ${counted.downstreamTotal} downstream requests, at most ${counted.downstreamMax} at once`);
      const appliedBy = (tag: string) => counted.applied.filter(({ data }) => data.tag === tag).map(({ data }) => data.index).sort((a, b) => a - b);
      const twenty = Array.from({ length: 20 }, (_, index) => index);
      pages.forEach((frame, index) => {
        const applied = appliedBy(`page${index}`);
        // The leaving page's publishes: at most once each (those it had told the others of are sent by the next leader).
        if (frame === leader) expect(new Set(applied).size, 'the old leader\'s publishes applied at most once').to.equal(applied.length);
        else expect(applied, `page${index}'s publishes applied once each`).to.deep.equal(twenty);
      });
      expect(counted.handshakes, 'the same session continued: one handshake').to.equal(1);
      expect(counted.downstreamSessions, 'sessions with a downstream request').to.have.length(1);
      expect(counted.downstreamMax, 'downstream requests open at once').to.be.at.most(2);
      expect(survivors.filter((frame) => win(frame)!.client!.leader)).to.have.length(1);
    });
  }

  // No driver here can freeze a page (Chromium's DevTools call leaves a visible page alone, and
  // Firefox and WebKit have no freeze), so the Page Lifecycle events are dispatched by hand: the
  // handover runs on the engine's own Web Locks and BroadcastChannel, though the page keeps running.
  it('a leading page about to be frozen (freeze dispatched) hands the lead over mid-stream; resumed, it follows; nothing lost or doubled', async function (this: Mocha) {
    this.timeout(60000);
    const { room, channel, pages } = await openRoom(3);
    await fetch(`/__fixture/xtab/stream?room=${room}&channel=${channel}&count=500&everyMs=3`);
    await waitFor(() => pages.every((frame) => (state(frame)?.indexes.length ?? 0) >= 100), 'the stream under way in every page');
    const leader = pages.find((frame) => win(frame)?.client?.leader)!;
    win(leader)!.document.dispatchEvent(new Event('freeze'));
    await waitFor(() => pages.some((frame) => frame !== leader && win(frame)!.client!.leader), 'a new leader');
    expect(win(leader)!.client!.leader, 'the frozen page leads no more').to.equal(false);
    win(leader)!.document.dispatchEvent(new Event('resume'));
    await waitFor(() => pages.every((frame) => state(frame)!.indexes.length >= 500), '500 messages in every page', 30000);
    for (const frame of pages) expect(sequenceProblems(state(frame)!.indexes, 500)).to.deep.equal([]);
    expect(pages.filter((frame) => win(frame)!.client!.leader), 'one leader').to.have.length(1);
    expect(win(leader)!.client!.leader, 'resumed, the old leader follows').to.equal(false);
    const counted = await stats(room);
    expect(counted.handshakes, 'the same session continued: one handshake').to.equal(1);
    expect(counted.downstreamMax, 'downstream requests open at once').to.be.at.most(2);
  });

  it('shareAcrossTabs: false: each page has its own connection and leads it', async () => {
    const room = `${run}-${++rooms}`;
    const pages = await Promise.all([1, 2, 3].map(() => openPage(`/xtab/${room}/comet`, 'stream', false)));
    await waitFor(() => pages.every((frame) => win(frame)?.client?.state === 'open'), 'three pages open');
    expect(pages.map((frame) => win(frame)!.client!.leader)).to.deep.equal([true, true, true]);
    expect((await stats(room)).handshakes).to.equal(3);
  });

  it('a page of another origin neither hears the pages nor can inject into them', async () => {
    const env = await fixtureEnv();
    const { room, endpoint, channel, pages } = await openRoom(2);
    const name = `cometkit ${new URL(endpoint, location.href).href}`;
    // The names are no secret: this origin holds the lock under exactly the name the other page tries.
    expect((await navigator.locks.query()).held?.map((lock) => lock.name)).to.include(name);

    const replies: unknown[] = [];
    const listen = (event: MessageEvent) => { replies.push(event.data); };
    addEventListener('message', listen);
    try {
      const other = document.createElement('iframe');
      other.src = `${env.crossOrigin.replace(/\/comet$/, '')}/__fixture/xtab/attacker.html?endpoint=${encodeURIComponent(new URL(endpoint, location.href).href)}&channel=${channel}`;
      frames.push(other);
      document.body.append(other);
      await waitFor(() => replies.includes('attacker ready'), 'the other origin\'s page');
      await fetch(`/__fixture/xtab/publish?room=${room}&channel=${channel}&count=50`);
      await waitFor(() => pages.every((frame) => (state(frame)?.indexes.length ?? 0) >= 50), '50 messages in both pages');
      other.contentWindow!.postMessage('report', '*');
      await waitFor(() => replies.some((reply) => typeof reply === 'object'), 'the other origin\'s report');
      const report = replies.find((reply) => typeof reply === 'object') as { heard: number; held?: string[]; free?: boolean; locksDenied?: string };
      expect(report.heard, 'messages the other origin heard').to.equal(0);
      console.log(`other origin: heard ${report.heard}; Web Locks ${report.locksDenied ?? `held ${JSON.stringify(report.held)}, free ${String(report.free)}`}`);
      if (report.locksDenied === undefined) {
        expect(report.held, 'locks held in the other origin').to.deep.equal([]);
        expect(report.free, 'the lock name is free in the other origin').to.equal(true);
      } else {
        // The engine denies Web Locks to the other origin's frame altogether: it sees no lock either.
        expect(report.locksDenied).to.match(/SecurityError/);
      }
      // A real publish after the forged ones: once it is applied, a forged one would have been too.
      win(pages[1]!)!.burst!('real', 1);
      await waitFor(() => state(pages[1]!)!.applied.length === 1, 'the real publish applied');
      for (const frame of pages) expect(sequenceProblems(state(frame)!.indexes, 50)).to.deep.equal([]);
      const counted = await stats(room);
      expect(counted.applied.map(({ data }) => data.tag), 'publishes applied').to.deep.equal(['real']);
      expect(counted.subscribes).to.not.include('evil-channel');
    } finally {
      removeEventListener('message', listen);
    }
  });
});
