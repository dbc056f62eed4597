// Server fan-out: 10,000 concurrent streaming connections, and separately 10,000 long polls, on one
// Node server process, driven by a load generator in another process on loopback (both forked
// here: bench/fanout-server.mjs and bench/fanout-load.mjs). For each broadcast: the latency from
// the server's publish to each client's arrival, p50/p99 over every client and broadcast; and the
// server's RSS. cometkit against the socket.io, sockjs and faye servers in the same run.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { summarize, fmt, table, sleep, compare } from './stats.mjs';

const REMEDY = {
  latency: 'Not diagnosed further in this run. Compare the "server publish turn" column (cometkit\'s own write pass over every session) with the fan-out p50: what is left is the load generator taking 10,000 answers on one core and, for polls, every client\'s next request arriving while the server is still answering the others; a p99 that varies by more than the gap between servers from run to run means the row is a tie.',
  memory: 'Per session, cometkit keeps a resume buffer and its seq and upstream state; creating the buffer only when a message is first held, or a smaller default bufferMaxBytes, would lower it. Not profiled in this run.',
};

const SCENARIOS = [
  ['cometkit', 'streaming', 'sse'],
  ['sockjs', 'streaming', 'xhr_streaming'],
  ['faye', 'streaming', 'eventsource'],
  ['cometkit', 'long-polling', 'poll'],
  ['socket.io', 'long-polling', 'polling (socket.io has no HTTP streaming transport)'],
  ['sockjs', 'long-polling', 'xhr polling'],
  ['faye', 'long-polling', 'long-polling'],
];

// The mass cut's waits: none (every stream back in one instant), the client's quick retry
// (src/reconnect.ts, 100 ms) and the 250 ms it had before.
const CUT_WINDOWS_MS = [0, 100, 250];

function plan(quick) {
  return quick
    ? { clients: 200, broadcasts: 2, scenarios: SCENARIOS.filter(([server]) => server === 'cometkit' || server === 'sockjs').slice(0, 3), cutWindowsMs: [100] }
    : { clients: 10_000, broadcasts: 5, scenarios: SCENARIOS, cutWindowsMs: CUT_WINDOWS_MS };
}

/** The next IPC message of `type` from `child`, or null after `timeoutMs`. */
function nextMessage(child, type, timeoutMs, match = () => true) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('message', listener); resolve(null); }, timeoutMs);
    function listener(message) {
      if (message.type !== type || !match(message)) return;
      clearTimeout(timer);
      child.off('message', listener);
      resolve(message);
    }
    child.on('message', listener);
  });
}

async function ask(child, type, timeoutMs = 10_000, extra = {}) {
  const answer = nextMessage(child, type, timeoutMs);
  child.send({ type, ...extra });
  return answer;
}

const mb = (bytes) => (bytes ? fmt(bytes / 1e6, 0) : '—');

/**
 * The mass cut, on the cometkit streams: every stream cut at once, one message published, every
 * client back after a uniform random wait below each window in turn. Per window: the time from the
 * publish (right after the cut) to each client's arrival of that message, over its new stream.
 */
async function massCuts(serverProcess, loadProcess, { clients, windowsMs, firstBroadcast }) {
  const cuts = [];
  let b = firstBroadcast;
  for (const windowMs of windowsMs) {
    b += 1;
    const before = await ask(loadProcess, 'status');
    const complete = nextMessage(loadProcess, 'complete', 60_000, (message) => message.b === b);
    if (!(await ask(loadProcess, 'cut', 10_000, { windowMs }))) throw new Error('the load generator did not cut');
    serverProcess.send({ type: 'broadcast', b });
    await complete;
    const report = await ask(loadProcess, 'report', 20_000, { b });
    const after = await ask(loadProcess, 'status');
    cuts.push({ windowMs, stats: summarize(report?.latencies ?? []), received: report?.latencies.length ?? 0, clients, errors: (after?.errors ?? 0) - (before?.errors ?? 0) });
    await sleep(1000);
  }
  return cuts;
}

async function scenario([server, mode, wire], { clients, broadcasts, cutWindowsMs }, log) {
  const here = new URL('.', import.meta.url).pathname;
  const serverProcess = fork(`${here}fanout-server.mjs`, [server], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let loadProcess = null;
  try {
    const listening = await nextMessage(serverProcess, 'listening', 20_000);
    if (!listening) throw new Error('the server did not start');
    const idle = await ask(serverProcess, 'rss');
    loadProcess = fork(`${here}fanout-load.mjs`, [server, mode, String(listening.port), String(clients)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'],
    });
    const started = await nextMessage(loadProcess, 'started', 150_000);
    if (!started) throw new Error('the load generator did not finish its setup');
    // Ready: every client's stream is open, or its poll is in flight.
    const ready = async () => {
      const state = await ask(loadProcess, 'status');
      return state && (mode === 'streaming' ? state.established : state.inFlight) >= started.clients ? state : null;
    };
    const readyDeadline = Date.now() + 60_000;
    while (!(await ready()) && Date.now() < readyDeadline) await sleep(250);
    await sleep(1000);
    const connected = await ask(serverProcess, 'rss');
    const latencies = [];
    const writeMs = [];
    let received = 0;
    for (let b = 1; b <= broadcasts; b++) {
      const complete = nextMessage(loadProcess, 'complete', 20_000, (message) => message.b === b);
      const published = nextMessage(serverProcess, 'broadcast', 20_000, (message) => message.b === b);
      serverProcess.send({ type: 'broadcast', b });
      const publishTimes = await published;
      if (publishTimes) writeMs.push(publishTimes.turnMs);
      await complete;
      const report = await ask(loadProcess, 'report', 20_000, { b });
      received += report?.latencies.length ?? 0;
      latencies.push(...(report?.latencies ?? []));
      const pollDeadline = Date.now() + 20_000;
      while (mode === 'long-polling' && !(await ready()) && Date.now() < pollDeadline) await sleep(100);
      await sleep(300);
    }
    const cuts = server === 'cometkit' && mode === 'streaming'
      ? await massCuts(serverProcess, loadProcess, { clients: started.clients, windowsMs: cutWindowsMs, firstBroadcast: broadcasts })
      : [];
    for (const cut of cuts) log(`fanout: mass cut, waits below ${cut.windowMs} ms: ${cut.received} back, p50 ${fmt(cut.stats.p50, 0)} ms, max ${fmt(cut.stats.max, 0)} ms`);
    const end = await ask(serverProcess, 'rss');
    const state = await ask(loadProcess, 'status');
    const stats = summarize(latencies);
    log(`fanout: ${server} ${mode}: ${started.clients} clients, p50 ${fmt(stats.p50, 1)} ms, p99 ${fmt(stats.p99, 1)} ms, RSS ${mb(end?.peakRss)} MB`);
    return {
      server, mode, stats, clients: started.clients, peakRss: end?.peakRss, cuts,
      row: [
        server, mode, wire, `${started.clients}/${clients}`, fmt(started.setupMs / 1000, 1),
        `${fmt(stats.p50, 1)} / ${fmt(stats.p99, 1)}`, fmt(summarize(writeMs).p50, 1), `${received}/${broadcasts * started.clients}`,
        mb(idle?.rss), mb(connected?.rss), mb(end?.peakRss), `${state?.errors ?? '?'}${state?.lastError ? ` (${state.lastError.slice(0, 60)})` : ''}`,
      ],
    };
  } finally {
    loadProcess?.kill();
    serverProcess.kill();
    await Promise.all([loadProcess && loadProcess.exitCode === null ? once(loadProcess, 'exit') : null, serverProcess.exitCode === null ? once(serverProcess, 'exit') : null]);
  }
}

export async function run({ quick, log }) {
  const settings = plan(quick);
  const results = [];
  const rows = [];
  for (const entry of settings.scenarios) {
    try {
      const result = await scenario(entry, settings, log);
      results.push(result);
      rows.push(result.row);
    } catch (error) {
      log(`fanout: ${entry[0]} ${entry[1]}: ${error.message}`);
      rows.push([entry[0], entry[1], entry[2], 'failed', '—', '—', '—', '—', '—', '—', '—', error.message]);
    }
  }
  const findings = [];
  for (const ours of results.filter((result) => result.server === 'cometkit')) {
    if (!quick) {
      const meets = ours.stats.p99 < 250 && ours.peakRss < 600e6 && ours.clients === settings.clients;
      const peers = results.filter((result) => result.server !== 'cometkit' && result.mode === ours.mode);
      const bestPeer = peers.reduce((a, b) => (a && a.stats.p99 <= b.stats.p99 ? a : b), null);
      const why = meets || !bestPeer ? '' : ` The best peer in this mode, ${bestPeer.server}, has p99 ${fmt(bestPeer.stats.p99, 1)} ms${bestPeer.stats.p99 < 250 ? '' : ', so no server here meets it on this machine'}: a long-poll broadcast answers and closes every held request, then takes as many new ones while still answering, with the load generator on the other of the 2 cores. To win: answer polls in slices across turns so new polls are accepted in between, or measure with the load generator on its own machine.`;
      findings.push(`${meets ? 'meets' : 'misses'} target: cometkit ${ours.mode} at ${ours.clients} clients, p99 ${fmt(ours.stats.p99, 1)} ms, peak RSS ${mb(ours.peakRss)} MB (targets: p99 < 250 ms, RSS < 600 MB at 10,000).${why}`);
    }
    for (const peer of results.filter((result) => result.server !== 'cometkit' && result.mode === ours.mode)) {
      const latency = compare(ours.stats.p99, peer.stats.p99, 'lower');
      const memory = compare(ours.peakRss, peer.peakRss, 'lower');
      findings.push(`${latency} (${ours.mode} fan-out p99): cometkit ${fmt(ours.stats.p99, 1)} ms vs ${peer.server} ${fmt(peer.stats.p99, 1)} ms (p50 ${fmt(ours.stats.p50, 1)} vs ${fmt(peer.stats.p50, 1)}).${latency === 'LOSS' ? ` ${REMEDY.latency}` : ''}`);
      findings.push(`${memory} (${ours.mode} server RSS): cometkit ${mb(ours.peakRss)} MB vs ${peer.server} ${mb(peer.peakRss)} MB.${memory === 'LOSS' ? ` ${REMEDY.memory}` : ''}`);
    }
  }
  return {
    title: `Server fan-out: ${fmt(settings.clients, 0)} clients on one Node process`,
    only: 'fanout',
    method: [
      `Per row: a fresh server process (bench/fanout-server.mjs, every option at its default; socket.io polling only, sockjs and faye with their defaults) and a load generator process (bench/fanout-load.mjs) that sets up ${settings.clients} clients speaking the server's own wire protocol over node:http (handshake and subscribe where the protocol has them, 100 at a time), from source addresses 127.0.0.1-8, then holds one stream or one poll per client (a new poll as soon as one is answered).`,
      `${settings.broadcasts} broadcasts of one ~100 B message to all clients, each once every client has its stream open or its poll back in flight; latency = arrival in the load generator − the server's stamp just before publish (both \`performance.timeOrigin + performance.now()\`, one system clock). It includes the load generator's own event-loop delay in taking 10,000 answers on one core, the same for every server.`,
      '"server publish turn": from the publish call to an immediate queued right after it in the server process, i.e. the synchronous fan-out plus any writes deferred to that turn (cometkit flushes on setImmediate); faye hands publishes to its engine asynchronously, so its figure undercounts.',
      'RSS of the server process: idle before clients, with all clients connected, and the peak sampled every 100 ms over the run. Both processes share the machine\'s 2 cores.',
      `Mass cut (after the broadcasts of the cometkit streaming row): the load generator cuts every stream at once, the server publishes one message, and each client opens a new stream from its last seq after a uniform random wait below the window, as the client's quick retry does (PROTOCOL.md §8.2); the window is ${settings.cutWindowsMs.join(', ')} ms in turn. What it shows: how long ${fmt(settings.clients, 0)} resumes take the server whatever the wait, and whether resumes arriving together cost errors.`,
    ],
    tables: [
      table(['server', 'mode', 'wire', 'clients', 'setup s', 'fan-out p50 / p99 ms', 'server publish turn ms (median)', 'received', 'RSS idle MB', 'RSS connected MB', 'RSS peak MB', 'client errors'], rows),
      table(['mass cut of the cometkit streams: each back after a random wait below', 'back', 'publish → arrival over the new stream p50 / p99 / max ms', 'client errors'],
        results.flatMap((result) => result.cuts).map((cut) => [`${cut.windowMs} ms${cut.windowMs === 100 ? ' (the client\'s quick retry)' : cut.windowMs === 0 ? ' (none: all at once)' : ''}`, `${cut.received}/${cut.clients}`, `${fmt(cut.stats.p50, 0)} / ${fmt(cut.stats.p99, 0)} / ${fmt(cut.stats.max, 0)}`, cut.errors])),
    ],
    findings,
  };
}
