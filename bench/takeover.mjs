// Cross-tab takeover: three same-origin pages (iframes of one host page, each loading the built UMD
// bundle) share one connection; the server publishes a message every 5 ms; the leading page's frame
// is removed, and the time is taken, on the host page's clock (same-origin frames read the same
// epoch clock), from that removal to the first message the new leader's own connection delivers
// (the first one with a seq above everything seen before the loss, after the new leader was
// elected), and to the election itself (its 'leader' event). Then a new page joins and the next
// round removes the next leader. In each engine the project drives (scripts/lib/browsers.mjs).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createCometServer } from '../dist/server.mjs';
import { openEngine } from '../scripts/lib/browsers.mjs';
import { summarize, fmt, table } from './stats.mjs';

const root = new URL('../', import.meta.url);
const ENGINES = ['chromium', 'firefox', 'webkit'];
const PUBLISH_EVERY_MS = 5;
const PAGES = 3;

const FRAME = `<!doctype html><meta charset="utf-8"><script src="/bundle.js"></script><script>
window.arrivals = [];
window.electedAt = 0;
const now = () => performance.timeOrigin + performance.now();
window.client = new CometKit.CometClient(location.origin + '/comet', { transports: ['eventsource'] });
client.on('leader', () => { window.electedAt = now(); });
client.subscribe('bench', (data, { seq }) => { arrivals.push([seq, now()]); if (arrivals.length > 2000) arrivals.splice(0, 1000); });
</script>`;

const HOST = `<!doctype html><meta charset="utf-8"><body><script>
const rounds = Number(new URLSearchParams(location.search).get('rounds'));
const frames = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();
const win = (frame) => frame.contentWindow;
function add() {
  const frame = document.createElement('iframe');
  frame.src = '/frame.html';
  frames.push(frame);
  const loaded = new Promise((resolve) => { frame.onload = resolve; });
  document.body.append(frame);
  return loaded;
}
async function until(check, what, ms = 20000) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('timed out waiting for ' + what);
    await sleep(5);
  }
}
(async () => {
  const results = [];
  try {
    await Promise.all(Array.from({ length: ${PAGES} }, add));
    for (let round = 0; round < rounds; round++) {
      await until(() => frames.every((frame) => win(frame).client?.state === 'open' && win(frame).arrivals.length > 0), 'every page open and receiving');
      await until(() => frames.filter((frame) => win(frame).client.leader).length === 1, 'one leader');
      await sleep(300);
      const leader = frames.find((frame) => win(frame).client.leader);
      const survivors = frames.filter((frame) => frame !== leader);
      const seen = Math.max(...frames.map((frame) => { const list = win(frame).arrivals; return list[list.length - 1][0]; }));
      const lostAt = now();
      leader.remove();
      frames.splice(frames.indexOf(leader), 1);
      const firstOf = (frame) => win(frame).arrivals.find(([seq, at]) => seq > seen && win(frame).electedAt && at >= win(frame).electedAt);
      await until(() => survivors.some((frame) => win(frame).client.leader && firstOf(frame)), 'the new leader\\'s first message');
      const next = survivors.find((frame) => win(frame).client.leader);
      results.push({ firstMessageMs: firstOf(next)[1] - lostAt, electedMs: win(next).electedAt - lostAt });
      await add();
    }
    window.benchResult = { results };
  } catch (error) {
    window.benchResult = { results, error: String(error) };
  }
})();
</script>`;

async function startServer() {
  const comet = createCometServer({ heartbeatMs: 1000, retryMs: 50, sessionTimeoutMs: 20000 });
  const bundle = await readFile(new URL('dist/cometkit.umd.min.js', root), 'utf8');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path.startsWith('/comet')) return comet.handler(req, res);
    const body = path === '/bundle.js' ? bundle : path === '/frame.html' ? FRAME : path === '/' ? HOST : undefined;
    if (body === undefined) {
      res.writeHead(404).end();
      return undefined;
    }
    res.writeHead(200, { 'Content-Type': path.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
    return undefined;
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  let index = 0;
  const publisher = setInterval(() => comet.publish('bench', { index: index++ }), PUBLISH_EVERY_MS);
  return {
    port: server.address().port,
    close: async () => {
      clearInterval(publisher);
      await comet.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

export async function run({ quick, log }) {
  const rounds = quick ? 3 : 15;
  const server = await startServer();
  const rows = [];
  const findings = [];
  try {
    for (const engine of ENGINES) {
      let driver;
      try {
        driver = await openEngine(engine);
        await driver.goto(`http://127.0.0.1:${server.port}/?rounds=${rounds}`);
        await driver.waitFor(() => window.benchResult !== undefined, 30_000 + rounds * 10_000);
        const { results, error } = await driver.evaluate(() => window.benchResult);
        if (error) throw new Error(`${error} after ${results.length} rounds`);
        const first = summarize(results.map((result) => result.firstMessageMs));
        const elected = summarize(results.map((result) => result.electedMs));
        rows.push([`${engine} ${driver.version}`, `${fmt(first.p50, 0)} (${fmt(first.p25, 0)}–${fmt(first.p75, 0)})`, fmt(first.max, 0), `${fmt(elected.p50, 0)} (${fmt(elected.p25, 0)}–${fmt(elected.p75, 0)})`, first.n]);
        findings.push(`${first.max <= 2000 ? 'meets' : 'misses'} target (${engine}): the slowest of ${first.n} takeovers delivered its first message ${fmt(first.max, 0)} ms after the leader went (target: within 2,000 ms, issue 5).`);
        log(`takeover: ${engine} first message p50 ${fmt(first.p50, 0)} ms, max ${fmt(first.max, 0)} ms`);
      } catch (error) {
        log(`takeover: ${engine} FAILED ${error.message}`);
        rows.push([engine, 'failed', 'failed', 'failed', 0]);
        findings.push(`misses target (${engine}): the measurement failed: ${error.message}`);
      } finally {
        await driver?.close().catch(() => {});
      }
    }
  } finally {
    await server.close();
  }
  return {
    title: 'Cross-tab takeover (three same-origin pages, each engine, loopback)',
    only: 'takeover',
    method: [
      `${PAGES} iframes of one host page, each a page loading dist/cometkit.umd.min.js with \`new CometClient(url, { transports: ['eventsource'] })\` (cross-tab sharing is the default), share one connection to a reference server that publishes a message every ${PUBLISH_EVERY_MS} ms. Each round removes the leading page's frame, then adds a new page; ${rounds} rounds per engine.`,
      'Leader lost → first message: from the frame\'s removal to the arrival, in the new leader\'s page, of the first message above every seq seen before the loss (necessarily over the new leader\'s own connection, which resumed the session from the last seq). Elected: from the removal to the new leader\'s `leader` event (the browser handing over the Web Lock). One clock: same-origin frames share the host page\'s epoch clock (`performance.timeOrigin + performance.now()`).',
    ],
    tables: [table(['engine', 'leader lost → first message, ms: p50 (IQR)', 'max ms', 'leader lost → elected, ms: p50 (IQR)', 'n'], rows)],
    findings,
  };
}
