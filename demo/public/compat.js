// The compatibility page: runs each transport alone, same-origin and cross-origin, and measures it.
// It uses the package's ESM build the way a module script does. Results are on
// `window.cometkitCompat` ({ done, userAgent, results }) for `npm run compat`.
import { CometClientCore, eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp } from '/dist/cometkit.mjs';

const TRANSPORTS = [eventsource, xhrStreaming, multipart, iframe, longPolling, jsonp];
const OPEN_TIMEOUT_MS = 8000;
const MESSAGE_TIMEOUT_MS = 5000;
const ROUND_TRIPS = 5;
const BURST = { count: 4, gapMs: 150 };
const $ = (id) => document.getElementById(id);

const state = { done: false, userAgent: navigator.userAgent, results: [] };
window.cometkitCompat = state;

function timeout(ms, what) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms));
}

/** Resolves when the client is open; rejects when it closes or takes too long. */
function opened(client) {
  return Promise.race([
    new Promise((resolve, reject) => {
      client.on('statechange', ({ state: next, reason }) => {
        if (next === 'open') resolve();
        else if (next === 'closed') reject(new Error(reason));
      });
    }),
    timeout(OPEN_TIMEOUT_MS, 'open'),
  ]);
}

/** Messages of one channel, awaited one by one. */
function inbox() {
  const queue = [];
  const waiters = [];
  return {
    push(data) {
      const index = waiters.findIndex((waiter) => waiter.match(data));
      if (index >= 0) waiters.splice(index, 1)[0].resolve(data);
      else queue.push(data);
    },
    next(match, what) {
      const index = queue.findIndex(match);
      if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0]);
      return Promise.race([new Promise((resolve) => waiters.push({ match, resolve })), timeout(MESSAGE_TIMEOUT_MS, what)]);
    },
  };
}

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, '0')).join('');

async function measure(transport, origin, endpoint) {
  const result = { transport: transport.name, origin, works: false, firstFrameMs: null, latencyMs: null, streams: null, newRequests: null, error: null };
  const errors = [];
  const api = endpoint.replace(/\/comet$/, '');
  const channel = `compat/${randomId()}`;
  const messages = inbox();
  const started = performance.now();
  const client = new CometClientCore(endpoint, { transports: [transport], probeTimeoutMs: 4000, reconnect: { maxAttempts: 1 } });
  client.on('error', (error) => errors.push(`${error.type}${error.status ? ` ${error.status}` : ''}`));
  try {
    await opened(client);
    result.firstFrameMs = Math.round(performance.now() - started);
    client.subscribe(channel, (data) => messages.push(data));
    // The echo of a first publish proves the subscription and the whole path work.
    await client.publish(channel, { ping: 0 });
    await messages.next((data) => data.ping === 0, 'first message');
    result.works = true;
    const trips = [];
    for (let ping = 1; ping <= ROUND_TRIPS; ping += 1) {
      const sent = performance.now();
      void client.publish(channel, { ping });
      await messages.next((data) => data.ping === ping, 'round trip');
      trips.push(performance.now() - sent);
    }
    result.latencyMs = Math.round(median(trips) * 10) / 10;
    const query = `channel=${encodeURIComponent(channel)}`;
    const before = (await getJson(`${api}/demo/compat/requests?${query}`)).downstreamRequests;
    await getJson(`${api}/demo/compat/burst?${query}&count=${BURST.count}&gapMs=${BURST.gapMs}`);
    for (let index = 1; index <= BURST.count; index += 1) await messages.next((data) => data.burst === index, 'burst');
    const after = (await getJson(`${api}/demo/compat/requests?${query}`)).downstreamRequests;
    // A streaming transport carries the whole burst on the request already open; a polling one
    // needs a new request after each answer.
    result.newRequests = after - before;
    result.streams = after === before;
  } catch (error) {
    result.error = errors[0] ?? (error instanceof Error ? error.message : String(error));
  } finally {
    client.close();
  }
  return result;
}

function cells(result) {
  if (!result) return [['pending', '…'], ['pending', ''], ['pending', ''], ['pending', '']];
  if (!result.works) return [['fails', `fails${result.error ? `: ${result.error}` : ''}`], ['', result.firstFrameMs === null ? '—' : `${result.firstFrameMs} ms`], ['', '—'], ['', '—']];
  const streams = result.streams === null ? '—' : result.streams ? 'yes' : `no (${result.newRequests} new requests)`;
  return [['works', 'works'], ['', `${result.firstFrameMs} ms`], ['', `${result.latencyMs} ms`], ['', streams]];
}

function render() {
  $('matrix').replaceChildren(...TRANSPORTS.map((transport) => {
    const row = document.createElement('tr');
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = transport.name;
    row.append(name);
    for (const origin of ['same', 'cross']) {
      const result = state.results.find((entry) => entry.transport === transport.name && entry.origin === origin);
      for (const [className, text] of cells(result)) {
        const cell = document.createElement('td');
        if (className) cell.className = className;
        cell.textContent = text;
        row.append(cell);
      }
    }
    return row;
  }));
}

async function runAll() {
  $('run').disabled = true;
  state.done = false;
  state.results.length = 0;
  render();
  const { crossOrigin } = await getJson('/demo/config.json');
  const sameOrigin = new URL('/comet', location.href).href;
  for (const transport of TRANSPORTS) {
    for (const [origin, endpoint] of [['same', sameOrigin], ['cross', crossOrigin]]) {
      $('progress').textContent = `Running ${transport.name}, ${origin} origin…`;
      state.results.push(await measure(transport, origin, endpoint));
      render();
    }
  }
  const working = state.results.filter((result) => result.works).length;
  $('progress').textContent = `Done: ${working} of ${state.results.length} combinations work in this browser.`;
  $('run').disabled = false;
  state.done = true;
}

$('engine').textContent = `Browser: ${navigator.userAgent}`;
$('run').addEventListener('click', () => void runAll());
render();
void runAll();
