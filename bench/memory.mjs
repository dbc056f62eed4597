// Browser memory while streaming: 100 MB of 10 KB messages through each streaming transport, with
// the page's JS heap (after a forced GC) and its DOM counters sampled at each quarter. A transport
// that recycles its response (PROTOCOL.md section 7) stays flat; one that keeps the whole response
// text, or every forever-frame document, grows with the data.
import { TARGETS } from './targets.mjs';
import { openEach, publishAndCollect } from './browser.mjs';
import { fmt, table } from './stats.mjs';

const COMETKIT_OPTIONS = { bufferMaxMessages: 1_000_000, bufferMaxBytes: 1024 * 2 ** 20 }; // as in the throughput job
const MESSAGE_PAD = 10_240;
const FLAT_TOLERANCE_BYTES = 2 * 2 ** 20;

function plan(quick) {
  return quick
    ? { names: ['cometkit eventsource', 'cometkit xhr-streaming'], megabytes: 4 }
    : { names: TARGETS.filter((target) => ['sse', 'xhr-stream', 'iframe'].includes(target.kind)).map((target) => target.name), megabytes: 100 };
}

async function sample(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const dom = await cdp.send('Memory.getDOMCounters');
  return { used: heap.usedSize, documents: dom.documents, nodes: dom.nodes, listeners: dom.jsEventListeners };
}

const mib = (bytes) => fmt(bytes / 2 ** 20, 2);

export async function run({ quick, browser, log }) {
  const settings = plan(quick);
  const perQuarter = Math.ceil((settings.megabytes * 1e6) / MESSAGE_PAD / 4);
  const rows = [];
  const findings = [];
  const failed = (name) => [name, 'failed to connect', '—', '—', '—', '—', '—', '—'];
  for await (const { name, target, opened } of openEach(browser, settings.names, { cometkitOptions: COMETKIT_OPTIONS, job: 'memory', log, rows, failed })) {
    try {
      const cdp = await opened.page.context().newCDPSession(opened.page);
      await cdp.send('HeapProfiler.enable');
      await opened.page.evaluate(() => window.bench.reset(false));
      const samples = [await sample(cdp)];
      let received = 0;
      let bytes = 0;
      for (let quarter = 0; quarter < 4; quarter++) {
        const result = await publishAndCollect(opened, { count: perQuarter, intervalMs: 0, padBytes: MESSAGE_PAD, timeoutMs: 120_000, firstIndex: quarter * perQuarter, burst: 10, keep: false });
        received += result.n;
        bytes += result.bytes;
        samples.push(await sample(cdp));
      }
      const [start, first, , , end] = samples;
      const growth = end.used - first.used;
      const flat = growth <= FLAT_TOLERANCE_BYTES && end.documents <= first.documents + 1;
      rows.push([
        name,
        `${fmt(bytes / 1e6, 1)} MB (${received} msgs)`,
        mib(start.used),
        samples.slice(1).map((entry) => mib(entry.used)).join(' → '),
        mib(growth),
        samples.map((entry) => entry.documents).join('→'),
        `${start.nodes}→${end.nodes}`,
        flat ? 'flat' : 'GROWS',
      ]);
      if (target.ours) findings.push(`${flat ? 'meets' : 'misses'} target: ${name} heap ${flat ? 'stays flat' : 'grows'} while streaming ${fmt(bytes / 1e6, 0)} MB (${mib(first.used)} MiB after the first quarter, ${mib(end.used)} MiB at the end).`);
      log(`memory: ${name} ${mib(first.used)} → ${mib(end.used)} MiB over ${fmt(bytes / 1e6, 0)} MB`);
      await cdp.detach();
    } finally {
      await opened.close();
    }
  }
  return {
    title: 'Browser memory while streaming (headless Chromium)',
    only: 'memory',
    method: [
      `${settings.megabytes} MB of ~10 KB messages per target, in four quarters; after each, \`HeapProfiler.collectGarbage\` then \`Runtime.getHeapUsage\` (used JS heap of the page, same-origin iframes included) and \`Memory.getDOMCounters\` over CDP. The page counts messages and drops them (the harness keeps nothing).`,
      `"flat": the heap after the last quarter is within ${mib(FLAT_TOLERANCE_BYTES)} MiB of the heap after the first, and documents do not pile up. cometkit's server runs with its default \`maxStreamBytes\` (128 KiB) and the raised resume buffer of the throughput job. The raw EventSource floor keeps no response text (the browser's EventSource parses and discards).`,
    ],
    tables: [table(['target', 'streamed', 'heap before MiB', 'heap after each quarter MiB', 'growth after Q1 MiB', 'documents', 'DOM nodes', 'verdict'], rows)],
    findings,
  };
}
