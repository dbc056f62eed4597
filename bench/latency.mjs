// Latency, server publish -> client listener, in Chromium, Firefox ESR and WebKitGTK on loopback,
// per transport, at a low rate and under load. One clock: the server stamps each message with
// performance.timeOrigin + performance.now() just before publishing it, the page stamps its arrival
// the same way; both clocks read the same system clock (checked below by a min-RTT ping).
import { TARGETS } from './targets.mjs';
import { launchEngine, openEach, publishAndCollect } from './browser.mjs';
import { summarize, fmt, table, compare } from './stats.mjs';

/** What it would take to win, per kind of transport. */
const REMEDY = {
  'xhr-stream': 'cometkit reads these streams through fetch and a ReadableStream reader in every engine here (docs/ENGINES.md); an XHR stream (SockJS\'s) waits for the engine\'s progress timer. Not diagnosed further.',
  sse: 'Both run on the browser\'s EventSource; the difference is the client\'s own work per message (JSON parse, seq check, dispatch).',
  iframe: 'Both are forever frames run by the browser\'s HTML parser; the difference is the per-script dispatch.',
  'long-poll': 'A long poll costs a new request per answer; the difference is per-request work (URL building, fetch vs XHR) and the server\'s answer time.',
  jsonp: 'A script poll costs a new script element per answer; the difference is per-request work.',
};

const PAD_BYTES = 64; // about 100 bytes of JSON per message with its number and stamp
/** Issue 16: every streaming transport's p50 within this of the raw EventSource floor, in each engine. */
const FLOOR_TARGET_MS = 1;
const ENGINES = ['chromium', 'firefox', 'webkit'];

function plan(quick) {
  return quick
    ? {
      names: { chromium: ['cometkit eventsource', 'cometkit long-polling', 'raw EventSource (floor)', 'socket.io polling'], other: ['cometkit xhr-streaming', 'raw EventSource (floor)'] },
      low: { count: 20, intervalMs: 20 }, load: { count: 200, intervalMs: 1 }, rounds: 1,
    }
    : { names: { chromium: TARGETS.map((target) => target.name), other: TARGETS.map((target) => target.name) }, low: { count: 100, intervalMs: 50 }, load: { count: 3000, intervalMs: 1 }, rounds: 2 };
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

/** Targets an engine cannot run, with why: their rows say so instead of waiting out a connect timeout. */
const CANNOT = {
  webkit: { 'cometkit multipart': 'n/a: WebKit cannot read a multipart body (docs/ENGINES.md); the negotiator moves on' },
};

/**
 * Measures `names` in one engine, `rounds` times over, the order reversed every other round so
 * that a slow phase of the machine does not fall on the same targets. Returns each target's
 * samples pooled over the rounds, and the clock offsets (exported for ad-hoc runs of a few targets).
 */
export async function measureEngine(engine, names, { low, load, rounds = 1 }, log) {
  const cannot = CANNOT[engine.name] ?? {};
  const failures = new Map();
  const samples = new Map();
  const offsets = [];
  const runnable = names.filter((name) => !cannot[name]);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...runnable].reverse() : runnable;
    const rows = [];
    const failed = (name) => { failures.set(name, 'failed to connect'); return []; };
    for await (const { name, target, opened } of openEach(engine, order, { job: 'latency', log, rows, failed })) {
      try {
        offsets.push(await clockOffset(opened.page));
        const lowRun = await publishAndCollect(opened, { ...low, padBytes: PAD_BYTES, timeoutMs: low.count * low.intervalMs + 30_000 });
        const loadRun = await publishAndCollect(opened, { ...load, padBytes: PAD_BYTES, timeoutMs: load.count * load.intervalMs + 30_000, firstIndex: low.count });
        const entry = samples.get(name) ?? { target, transport: opened.transport, low: [], load: [], lost: 0, dups: 0, loadRates: [] };
        entry.low.push(...latencies(lowRun));
        entry.load.push(...latencies(loadRun));
        entry.lost += lowRun.sent - lowRun.index.length + loadRun.sent - loadRun.index.length;
        entry.dups += lowRun.dups + loadRun.dups;
        entry.loadRates.push(loadRun.sent / (loadRun.publishMs / 1000));
        samples.set(name, entry);
        log(`latency: ${engine.name} round ${round + 1}: ${name} low p50 ${fmt(summarize(latencies(lowRun)).p50, 2)} ms, load p50 ${fmt(summarize(latencies(loadRun)).p50, 2)} ms`);
      } finally {
        await opened.close();
      }
    }
  }
  const rows = [];
  const results = new Map();
  for (const name of names) {
    const target = TARGETS.find((candidate) => candidate.name === name);
    const entry = samples.get(name);
    if (!entry) {
      rows.push([engine.name, name, target.kind, cannot[name] ?? failures.get(name) ?? 'failed', '—', '—', '—', '—', '—']);
      continue;
    }
    const lowStats = summarize(entry.low);
    const loadStats = summarize(entry.load);
    results.set(name, { target, low: lowStats, load: loadStats });
    rows.push([
      engine.name, name, target.kind, entry.transport ?? '?',
      `${fmt(lowStats.p50, 2)} / ${fmt(lowStats.p99, 2)} (n=${lowStats.n})`,
      `${fmt(loadStats.p50, 2)} / ${fmt(loadStats.p99, 2)} (n=${loadStats.n})`,
      fmt(summarize(entry.loadRates).p50, 0), entry.lost, entry.dups,
    ]);
  }
  return { rows, results, offsets };
}

/** Each streaming transport of ours against the floor, and our best of each kind against each peer, in one engine. */
function judge(engine, results) {
  const findings = [];
  const floor = results.get('raw EventSource (floor)');
  for (const [name, result] of results) {
    if (!result.target.ours || !floor || !['sse', 'xhr-stream', 'iframe'].includes(result.target.kind)) continue;
    const gap = result.low.p50 - floor.low.p50;
    const meets = gap <= FLOOR_TARGET_MS;
    findings.push(`${meets ? 'meets' : 'misses'} target (${engine}): ${name} p50 at low rate is ${fmt(Math.abs(gap), 2)} ms ${gap >= 0 ? 'above' : 'below'} raw EventSource (target: within ${FLOOR_TARGET_MS} ms).${meets ? '' : ` ${REMEDY[result.target.kind]}`}`);
  }
  for (const kind of ['sse', 'xhr-stream', 'iframe', 'long-poll', 'jsonp']) {
    const ours = [...results.values()].filter((result) => result.target.ours && result.target.kind === kind);
    const peers = [...results.values()].filter((result) => !result.target.ours && result.target.client !== 'raw' && result.target.kind === kind);
    for (const rate of ['low', 'load']) {
      for (const peer of peers) {
        const best = ours.reduce((a, b) => (a && a[rate].p50 <= b[rate].p50 ? a : b), null);
        if (!best) continue;
        const verdict = compare(best[rate].p50, peer[rate].p50, 'lower');
        findings.push(`${verdict} (${engine}, ${kind}, ${rate === 'low' ? 'low rate' : 'under load'}): ${best.target.name} p50 ${fmt(best[rate].p50, 2)} ms vs ${peer.target.name} ${fmt(peer[rate].p50, 2)} ms.${verdict === 'LOSS' ? ` ${REMEDY[kind]}` : ''}`);
      }
    }
  }
  return findings;
}

export async function run({ quick, browser, log }) {
  const settings = plan(quick);
  const rows = [];
  const findings = [];
  const offsets = {};
  const engines = [];
  const data = {};
  for (const name of ENGINES) {
    // Chromium is the run's own; the others are started here, one at a time, and closed.
    const engine = name === 'chromium' ? browser : await launchEngine(name);
    try {
      engines.push({ name, version: engine.version });
      const measured = await measureEngine(engine, settings.names[name === 'chromium' ? 'chromium' : 'other'], settings, log);
      rows.push(...measured.rows);
      offsets[name] = summarize(measured.offsets.map((entry) => entry.offset));
      offsets[name].rtt = summarize(measured.offsets.map((entry) => entry.rtt)).p50;
      findings.push(...judge(name, measured.results));
      data[name] = Object.fromEntries([...measured.results].map(([target, result]) => [target, { low: result.low, load: result.load }]));
    } finally {
      if (engine !== browser) await engine.close();
    }
  }
  return {
    title: 'Latency: server publish → client listener (Chromium, Firefox ESR, WebKitGTK; loopback)',
    only: 'latency',
    engines,
    method: [
      `Each message is ~100 bytes of JSON (${PAD_BYTES} bytes of padding). Low rate: ${settings.low.count} messages, one every ${settings.low.intervalMs} ms. Under load: ${settings.load.count} messages at one per ${settings.load.intervalMs} ms (the "load rate" column is what the publisher achieved, median over rounds), measured on every message. ${settings.rounds} rounds per engine over every target, the order reversed in every other round (a slow phase of a shared machine then falls on different targets); the samples of the rounds are pooled.`,
      `Engines: ${engines.map((engine) => `${engine.name} ${engine.version}`).join(', ')}, one after another; Chromium and Firefox ESR headless through playwright (a fresh context per target), WebKitGTK's MiniBrowser through WebKitWebDriver on an Xvfb display (one page, navigated from target to target).`,
      'Clock: one clock. The server stamps `performance.timeOrigin + performance.now()` (Node) just before `publish`; the page stamps arrival in its listener with `performance.timeOrigin + performance.now()`. Both derive from the same system clock; no round trip is halved.',
      `Clock agreement check (page clock minus server clock, from the fastest of 20 fetches per target; the offset is reported, not subtracted): ${Object.entries(offsets).map(([name, stats]) => `${name} median ${fmt(stats.p50, 3)} ms (range ${fmt(stats.min, 3)} to ${fmt(stats.max, 3)}, fetch RTT median ${fmt(stats.rtt, 3)} ms)`).join('; ')}.`,
      'Clock resolution: Chromium\'s page clock has microseconds; Firefox\'s is made so with `privacy.reduceTimerPrecision: false`; WebKitGTK\'s has whole milliseconds (timeOrigin and performance.now() both), so its arrival stamps fall up to 1 ms early, 0.5 ms on average, the same for every target: its figures can read below zero, and only its differences between targets are exact to better than that.',
      'Each client runs its own shipped browser bundle with its transport pinned through its public API; the "used" column is the transport the client reports it actually used. Peers keep their default options.',
      `Target (issue 16): each cometkit streaming transport's p50 at low rate within ${FLOOR_TARGET_MS} ms of the raw EventSource floor, in each engine.`,
    ],
    tables: [table(['engine', 'target', 'kind', 'used', 'low rate p50 / p99 ms', 'under load p50 / p99 ms', 'load rate msg/s', 'lost', 'dup'], rows)],
    findings,
    data,
  };
}
