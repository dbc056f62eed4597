// `node scripts/qtwebkit-probe.mjs`: what QtWebKit 5.212 (Debian's libqt5webkit5, scripts/lib/qtwebkit.mjs) has and lacks
// of what the client could use, and what each streaming mechanism does there, measured in the
// engine itself (no cometkit code runs): a page (scripts/qtwebkit-probe/page.js) checks each
// API and syntax, then opens each mechanism through the test fault proxy (test/support/fault-
// proxy.mjs) to a raw server here that writes four events 200 ms apart, and has the proxy cut
// the connection after the second. It prints the tables of docs/ENGINES-qtwebkit.md.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { startFaultProxy } from '../test/support/fault-proxy.mjs';
import { qtwebkitVersion, runPage } from './lib/qtwebkit.mjs';

const GAP_MS = 200;
const EVENTS = 4;
const CUT_AFTER = 2;
const page = readFileSync(new URL('qtwebkit-probe/page.js', import.meta.url), 'utf8');

/** How each mechanism writes event `n`; `head` is what the response starts with. */
const MECHANISMS = {
  eventsource: { type: 'text/event-stream', event: (n) => `data: ${n}\n\n` },
  'xhr text/plain': { type: 'text/plain', event: (n) => `${n}\n` },
  'xhr x-ndjson nosniff': { type: 'application/x-ndjson', nosniff: true, event: (n) => `${n}\n` },
  'xhr x-ndjson nosniff 2 KiB prelude': { type: 'application/x-ndjson', nosniff: true, head: ' '.repeat(2048) + '\n', event: (n) => `${n}\n` },
  multipart: {
    type: 'multipart/x-mixed-replace; boundary=probe',
    nosniff: true,
    event: (n) => `--probe\r\nContent-Type: application/json\r\n\r\n${n}\r\n`,
  },
  'iframe, no prelude': { type: 'text/html', event: (n) => `<script>parent.postMessage('${n}', '*')</script>` },
  'iframe, 1 KiB prelude': { type: 'text/html', head: `<html><body>${' '.repeat(1024)}`, event: (n) => `<script>parent.postMessage('${n}', '*')</script>` },
};

let proxy;

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://probe.invalid');
  const cors = { 'Access-Control-Allow-Origin': '*' };
  if (url.pathname === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>probe</title></head><body><pre id="out">probing</pre>
<script>var PROBE = ${JSON.stringify({ streams: `http://127.0.0.1:${proxy.port}`, mechanisms: Object.keys(MECHANISMS), gapMs: GAP_MS, events: EVENTS })};</script>
<script type="module">document.body.appendChild(document.createElement('i')).id = 'module-ran';</script>
<script src="/page.js"></script></body></html>`);
  } else if (url.pathname === '/page.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    res.end(page);
  } else if (url.pathname === '/jsonp') {
    res.writeHead(200, { 'Content-Type': 'text/javascript', ...cors });
    res.end(`${url.searchParams.get('callback')}(1)`);
  } else if (url.pathname === '/stream') {
    const mechanism = MECHANISMS[url.searchParams.get('m')];
    const cut = url.searchParams.get('cut') === '1';
    res.writeHead(200, { 'Content-Type': mechanism.type, 'Cache-Control': 'no-store', ...cors, ...(mechanism.nosniff ? { 'X-Content-Type-Options': 'nosniff' } : {}) });
    if (mechanism.head) res.write(mechanism.head);
    let sent = 0;
    const next = () => {
      if (res.destroyed) return;
      res.write(mechanism.event(++sent));
      if (cut && sent === CUT_AFTER) setTimeout(() => { proxy.cutAll(); }, 50);
      else if (sent < EVENTS) timer = setTimeout(next, GAP_MS);
      // Held open after the last event: a stream that ends would say nothing of streaming.
    };
    let timer = setTimeout(next, 0);
    req.on('close', () => { clearTimeout(timer); });
  } else {
    res.writeHead(404);
    res.end();
  }
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
proxy = await startFaultProxy({ targetPort: server.address().port });
let results;
try {
  ({ result: results } = await runPage(`http://127.0.0.1:${server.address().port}/`, { timeoutMs: 120000 }));
} finally {
  await proxy.close();
  server.closeAllConnections();
  server.close();
}

const cell = (value) => String(value).replace(/\|/g, '\\|');
console.log(`QtWebKit ${qtwebkitVersion() ?? '?'}, ${results.userAgent}\n`);
console.log('| API or syntax | in QtWebKit 5.212 |\n|---|---|');
for (const [name, value] of results.apis) console.log(`| ${cell(name)} | ${cell(value)} |`);
console.log(`\n| mechanism, ${EVENTS} events ${GAP_MS} ms apart | streams | arrivals (ms) | cut by the proxy after event ${CUT_AFTER} |\n|---|---|---|---|`);
for (const row of results.mechanisms) {
  console.log(`| ${cell(row.name)} | ${row.streams} | ${cell(row.arrivals.join(', ') || 'none')} | ${cell(row.cut)} |`);
}
