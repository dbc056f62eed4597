// Where a client spends its time per message in the page: Chromium's sampling CPU profiler
// (DevTools Profiler domain, one sample every 50 µs) over a run of messages to one target, its
// self time summed per function and per script, divided by the messages received. Not part of
// `npm run bench` (it measures no goal; it says where the latency job's differences come from):
//   node bench/profile-client.mjs [--messages=N] [--top=N] [target name ...]
// cometkit runs its unminified bundle here (dist/cometkit.umd.js, built by `npm run build`), so
// its functions have their source names; peers run the bundles they ship.
import { TARGETS } from './targets.mjs';
import { launchEngine, openTarget, publishAndCollect } from './browser.mjs';
import { fmt, table } from './stats.mjs';

const DEFAULT_TARGETS = ['raw EventSource (floor)', 'cometkit eventsource', 'sockjs eventsource', 'faye eventsource', 'cometkit iframe', 'sockjs htmlfile'];

function parseArgs(argv) {
  const options = { messages: 20_000, top: 12, names: [] };
  for (const arg of argv) {
    if (arg.startsWith('--messages=')) options.messages = Number(arg.slice(11));
    else if (arg.startsWith('--top=')) options.top = Number(arg.slice(6));
    else if (TARGETS.some((target) => target.name === arg)) options.names.push(arg);
    else throw new Error(`profile-client: unknown argument or target ${arg}; targets: ${TARGETS.map((target) => target.name).join(', ')}`);
  }
  if (!options.names.length) options.names = DEFAULT_TARGETS;
  return options;
}

/** The script a call frame belongs to, as this page names them. */
function scriptOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.endsWith('/bench/client.js')) return 'client library';
  if (url.endsWith('/bench/page.html') || url.endsWith('/bench/adapter.js')) return 'bench harness';
  return url.replace(/^https?:\/\/[^/]+/, '');
}

/** Self time in ms per function and per script, from a Profiler.Profile. */
function selfTimes(profile) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const perNode = new Map();
  profile.samples.forEach((id, index) => perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000));
  const functions = new Map();
  const scripts = new Map();
  for (const [id, ms] of perNode) {
    const { callFrame } = byNode.get(id);
    const script = scriptOf(callFrame);
    const name = `${callFrame.functionName || '(anonymous)'} [${script}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}]`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    scripts.set(script, (scripts.get(script) ?? 0) + ms);
  }
  return { functions, scripts };
}

async function profileTarget(engine, name, { messages, top }) {
  const target = TARGETS.find((candidate) => candidate.name === name);
  const opened = await openTarget(engine, target, { readable: true, cometkitOptions: { bufferMaxMessages: 1_000_000, bufferMaxBytes: 2 ** 30 } });
  try {
    const cdp = await opened.page.context().newCDPSession(opened.page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await cdp.send('Profiler.start');
    // One message a millisecond: each arrives alone, as at the latency job's low rate.
    const run = await publishAndCollect(opened, { count: messages, intervalMs: 1, padBytes: 64, timeoutMs: messages * 2 + 30_000, keep: false });
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.detach();
    const { functions, scripts } = selfTimes(profile);
    const perMessageUs = (ms) => fmt((ms * 1000) / run.n, 2);
    const busy = [...scripts].filter(([script]) => script !== '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
    console.log(`\n## ${name} (${opened.transport}): ${run.n} of ${messages} messages; busy ${perMessageUs(busy)} µs per message\n`);
    console.log(table(['script', 'self µs per message'], [...scripts].filter(([script]) => script !== '(idle)').sort((a, b) => b[1] - a[1]).map(([script, ms]) => [script, perMessageUs(ms)])));
    console.log('');
    const ranked = [...functions].filter(([fn]) => !fn.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top);
    console.log(table(['function [script:line]', 'self µs per message'], ranked.map(([fn, ms]) => [fn, perMessageUs(ms)])));
  } finally {
    await opened.close();
  }
}

const options = parseArgs(process.argv.slice(2));
const engine = await launchEngine('chromium');
try {
  console.log(`# Client time per message, Chromium ${engine.version}, ${options.messages} messages of ~100 B, one a millisecond`);
  for (const name of options.names) await profileTarget(engine, name, options);
} finally {
  await engine.close();
}
process.exit(0);
