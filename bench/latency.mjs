// Latency, server publish -> client listener, in headless Chromium on loopback, per transport,
// at a low rate and under load. One clock: the server stamps each message with
// performance.timeOrigin + performance.now() just before publishing it, the page stamps its arrival
// the same way; both clocks read the same system clock (checked below by a min-RTT ping).
import { TARGETS } from './targets.mjs';
import { openEach, publishAndCollect } from './browser.mjs';
import { summarize, fmt, table, compare } from './stats.mjs';

/** What it would take to win, per kind of transport. */
const REMEDY = {
  'xhr-stream': 'Every XHR stream here, SockJS\'s included, sits near 20 ms at p50: Chromium hands a streaming XHR\'s body to script on its progress timer rather than per network chunk, which the table shows as the same delay for cometkit xhr-streaming, multipart and sockjs xhr-streaming. To be near the floor: read the body through fetch() and a ReadableStream reader where the engine streams it (all three engines do, docs/ENGINES.md), keeping XHR as the fallback; that is a change in transports/, which others own.',
  sse: 'Both run on the browser\'s EventSource; the difference is the client\'s own work per message (JSON parse, seq check, dispatch).',
  iframe: 'Both are forever frames run by the browser\'s HTML parser; the difference is the per-script dispatch.',
  'long-poll': 'A long poll costs a new request per answer; the difference is per-request work (URL building, fetch vs XHR) and the server\'s answer time.',
  jsonp: 'A script poll costs a new script element per answer; the difference is per-request work.',
};

const PAD_BYTES = 64; // about 100 bytes of JSON per message with its number and stamp

function plan(quick) {
  return quick
    ? { names: ['cometkit eventsource', 'cometkit long-polling', 'raw EventSource (floor)', 'socket.io polling'], low: { count: 20, intervalMs: 20 }, load: { count: 200, intervalMs: 1 } }
    : { names: TARGETS.map((target) => target.name), low: { count: 100, intervalMs: 50 }, load: { count: 3000, intervalMs: 1 } };
}

/** The page's clock minus the server's, from the fetch with the smallest round trip of 20. */
async function clockOffset(page) {
  return page.evaluate(async () => {
    let best = { rtt: Infinity, offset: 0 };
    for (let k = 0; k < 20; k++) {
      const before = performance.timeOrigin + performance.now();
      const server = Number(await (await fetch('/bench/clock')).text());
      const after = performance.timeOrigin + performance.now();
      if (after - before < best.rtt) best = { rtt: after - before, offset: (before + after) / 2 - server };
    }
    return best;
  });
}

function latencies(records) {
  return records.receivedAt.map((receivedAt, k) => receivedAt - records.sentAt[k]);
}

export async function run({ quick, browser, log }) {
  const { names, low, load } = plan(quick);
  const rows = [];
  const results = new Map();
  const offsets = [];
  const failed = (name, target) => [name, target.kind, 'failed to connect', '—', '—', '—', '—', '—'];
  for await (const { name, target, opened } of openEach(browser, names, { job: 'latency', log, rows, failed })) {
    try {
      offsets.push(await clockOffset(opened.page));
      const lowRun = await publishAndCollect(opened, { ...low, padBytes: PAD_BYTES, timeoutMs: low.count * low.intervalMs + 30_000 });
      const loadRun = await publishAndCollect(opened, { ...load, padBytes: PAD_BYTES, timeoutMs: load.count * load.intervalMs + 30_000, firstIndex: low.count });
      const lowStats = summarize(latencies(lowRun));
      const loadStats = summarize(latencies(loadRun));
      const lost = lowRun.sent - lowRun.index.length + loadRun.sent - loadRun.index.length;
      results.set(name, { target, low: lowStats, load: loadStats });
      rows.push([
        name, target.kind, opened.transport ?? '?',
        `${fmt(lowStats.p50, 2)} / ${fmt(lowStats.p99, 2)} (n=${lowStats.n})`,
        `${fmt(loadStats.p50, 2)} / ${fmt(loadStats.p99, 2)} (n=${loadStats.n})`,
        fmt(loadRun.sent / (loadRun.publishMs / 1000), 0),
        lost, lowRun.dups + loadRun.dups,
      ]);
      log(`latency: ${name} low p50 ${fmt(lowStats.p50, 2)} ms, load p50 ${fmt(loadStats.p50, 2)} ms`);
    } finally {
      await opened.close();
    }
  }

  const findings = [];
  const floor = results.get('raw EventSource (floor)');
  for (const [name, result] of results) {
    if (!result.target.ours || !floor || !['sse', 'xhr-stream', 'iframe'].includes(result.target.kind)) continue;
    const gap = result.low.p50 - floor.low.p50;
    findings.push(`${gap <= 0.5 ? 'meets' : 'misses'} target: ${name} p50 at low rate is ${fmt(Math.abs(gap), 2)} ms ${gap >= 0 ? 'above' : 'below'} raw EventSource (target: within 0.5 ms).${gap > 0.5 ? ` ${REMEDY[result.target.kind]}` : ''}`);
  }
  for (const kind of ['sse', 'xhr-stream', 'iframe', 'long-poll', 'jsonp']) {
    const ours = [...results.values()].filter((result) => result.target.ours && result.target.kind === kind);
    const peers = [...results.values()].filter((result) => !result.target.ours && result.target.client !== 'raw' && result.target.kind === kind);
    for (const rate of ['low', 'load']) {
      for (const peer of peers) {
        const best = ours.reduce((a, b) => (a && a[rate].p50 <= b[rate].p50 ? a : b), null);
        if (!best) continue;
        const verdict = compare(best[rate].p50, peer[rate].p50, 'lower');
        findings.push(`${verdict} (${kind}, ${rate === 'low' ? 'low rate' : 'under load'}): ${best.target.name} p50 ${fmt(best[rate].p50, 2)} ms vs ${peer.target.name} ${fmt(peer[rate].p50, 2)} ms.${verdict === 'LOSS' ? ` ${REMEDY[kind]}` : ''}`);
      }
    }
  }
  const offsetStats = summarize(offsets.map((entry) => entry.offset));
  const rttStats = summarize(offsets.map((entry) => entry.rtt));
  return {
    title: 'Latency: server publish → client listener (headless Chromium, loopback)',
    only: 'latency',
    method: [
      `Each message is ~100 bytes of JSON (${PAD_BYTES} bytes of padding). Low rate: ${low.count} messages, one every ${low.intervalMs} ms. Under load: ${load.count} messages at one per ${load.intervalMs} ms (the "load rate" column is what the publisher achieved), measured on every message.`,
      'Clock: one clock. The server stamps `performance.timeOrigin + performance.now()` (Node) just before `publish`; the page stamps arrival in its listener with `performance.timeOrigin + performance.now()` (Chromium). Both derive from the same system clock; no round trip is halved.',
      `Clock agreement check (page clock minus server clock, from the fastest of 20 fetches per target): median ${fmt(offsetStats.p50, 3)} ms, range ${fmt(offsetStats.min, 3)} to ${fmt(offsetStats.max, 3)} ms, fetch RTT median ${fmt(rttStats.p50, 3)} ms. The offset is reported, not subtracted.`,
      'Each client runs its own shipped browser bundle with its transport pinned through its public API; the "used" column is the transport the client reports it actually used. Peers keep their default options.',
    ],
    tables: [table(['target', 'kind', 'used', 'low rate p50 / p99 ms', 'under load p50 / p99 ms', 'load rate msg/s', 'lost', 'dup'], rows)],
    findings,
    data: Object.fromEntries([...results].map(([name, result]) => [name, { low: result.low, load: result.load }])),
  };
}
