// `npm run measure:proxies` (needs `npm run build` first): what the client does today behind real
// middleboxes, in Chromium, as Markdown tables on stdout. Not a test: nothing here is asserted.
//   1. Buffering nginx (HTTP/1.0 upstream with X-Accel-Buffering ignored: buffers until full), and
//      nginx holding every response until it ends: a message every 50 ms for 15 s from before the
//      client starts; time to the first message after `new CometClient`, delivery delays, messages
//      later than 5 s, and those still undelivered 30 s after the last publish.
//   2. Per-message delay at a low rate (a message every 100 ms, after the client is open):
//      HAProxy with and without `option http-no-delay`, nginx with and without gzip.
// Arguments: --only=buffering,latency to run one part.
import type { Browser } from 'playwright';
import { launch, type TransportName } from './runner.ts';
import { SCENARIOS, startScenario, type ScenarioName, type Started } from './scenarios.ts';

interface Driver {
  start(options: unknown): Promise<void>;
  snapshot(): { received: number[]; arrivedAt: number[]; startedAt: number; ready: boolean; transport: string | null; transports: { name: string; reason: string }[] };
  close(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Measured {
  firstMs: number | undefined;
  published: number;
  received: number;
  undelivered: number;
  late5s: number;
  p50: number;
  p90: number;
  max: number;
  transport: string | null;
  steps: string;
}

/**
 * Publishes `count` messages `intervalMs` apart on a fresh channel while a page runs the client;
 * `waitReady`: only once the client is open (latency), or from before it starts (buffering).
 */
async function measure(browser: Browser, started: Started, transport: TransportName | null, plan: { intervalMs: number; count: number; settleMs: number; waitReady: boolean }): Promise<Measured> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const channel = `measure-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await page.goto(`${started.origin}/`);
    await page.waitForFunction(() => 'driver' in window);
    const starting = page.evaluate((options) => (window as unknown as { driver: Driver }).driver.start(options),
      { transport, channel, upChannel: `${channel}-up` }).catch(() => undefined);
    if (plan.waitReady) await starting;
    const publishedAt = new Map<number, number>();
    for (let index = 1; index <= plan.count; index += 1) {
      publishedAt.set(index, Date.now());
      started.backend.comet.publish(channel, { index });
      await sleep(plan.intervalMs);
    }
    const snapshot = () => page.evaluate(() => (window as unknown as { driver: Driver }).driver.snapshot());
    const deadline = Date.now() + plan.settleMs;
    let last = await snapshot();
    // Everything from the first message the session got is owed to it.
    const owed = () => (last.received.length === 0 ? plan.count : plan.count - Math.min(...last.received) + 1);
    while (last.received.length < owed() && Date.now() < deadline) {
      await sleep(250);
      last = await snapshot();
    }
    const delays = last.received.map((index, position) => last.arrivedAt[position]! - publishedAt.get(index)!);
    return {
      firstMs: last.arrivedAt[0] === undefined ? undefined : last.arrivedAt[0] - last.startedAt,
      published: plan.count,
      received: last.received.length,
      undelivered: owed() - new Set(last.received).size,
      late5s: delays.filter((delay) => delay > 5000).length,
      p50: percentile(delays, 50),
      p90: percentile(delays, 90),
      max: delays.length ? Math.max(...delays) : NaN,
      transport: last.transport,
      steps: last.transports.map(({ name, reason }) => `${name} (${reason})`).join(' → '),
    };
  } finally {
    await page.evaluate(() => { (window as unknown as { driver: Driver }).driver.close(); }).catch(() => undefined);
    await context.close();
  }
}

const fmt = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '—' : `${Math.round(value)}`);

async function part(title: string, header: string, rows: [ScenarioName, TransportName | null][], plan: Parameters<typeof measure>[3],
  row: (name: ScenarioName, transport: TransportName | null, m: Measured) => string, browser: Browser): Promise<void> {
  console.log(`\n### ${title}\n\n${header}`);
  for (const [name, transport] of rows) {
    const started = await startScenario(SCENARIOS[name]);
    try {
      console.log(row(name, transport, await measure(browser, started, transport, plan)));
    } finally {
      await started.stop();
    }
  }
}

const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice(7).split(',') ?? ['buffering', 'latency'];
const browser = await launch('chromium');
try {
  console.log(`Measured by \`npm run measure:proxies\` on ${new Date().toISOString()}, Chromium ${browser.version()}, nginx 1.22, HAProxy 2.6 (Debian).`);
  if (only.includes('buffering')) {
    const rows: [ScenarioName, TransportName | null][] = [
      ['nginx-readme', null],
      ['nginx-buffering', null], ['nginx-buffering', 'eventsource'], ['nginx-buffering', 'xhr-streaming'], ['nginx-buffering', 'long-polling'],
      ['nginx-buffer-all', null], ['nginx-buffer-all', 'eventsource'],
    ];
    await part('Buffering proxies today: a message every 50 ms for 15 s, from before the client starts',
      '| proxy | transport asked | first message after new CometClient, ms | ended on (steps) | delay p50 / p90 / max, ms | later than 5 s | undelivered 30 s after the last publish |\n| --- | --- | --- | --- | --- | --- | --- |',
      rows, { intervalMs: 50, count: 300, settleMs: 30000, waitReady: false },
      (name, transport, m) => `| ${SCENARIOS[name].name} | ${transport ?? 'negotiated'} | ${fmt(m.firstMs)} | ${m.transport ?? 'none'} (${m.steps}) | ${fmt(m.p50)} / ${fmt(m.p90)} / ${fmt(m.max)} | ${m.late5s} of ${m.received} | ${m.undelivered} |`,
      browser);
  }
  if (only.includes('latency')) {
    const rows: [ScenarioName, TransportName | null][] = [];
    for (const name of ['haproxy-readme', 'haproxy-delay', 'nginx-readme', 'nginx-gzip'] as const) {
      for (const transport of ['eventsource', 'xhr-streaming', 'iframe'] as const) rows.push([name, transport]);
    }
    await part('Delay per message at a low rate: 50 messages 100 ms apart, once the client is open',
      '| proxy | transport | delay p50 / p90 / max, ms | received |\n| --- | --- | --- | --- |',
      rows, { intervalMs: 100, count: 50, settleMs: 10000, waitReady: true },
      (name, transport, m) => `| ${SCENARIOS[name].name} | ${transport} | ${fmt(m.p50)} / ${fmt(m.p90)} / ${fmt(m.max)} | ${m.received} of ${m.published} |`,
      browser);
  }
} finally {
  await browser.close();
}
